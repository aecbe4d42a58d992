"""Semesters, categories, venues, courses and meetings; the public catalog."""
