"""The reports app: at the top of the import order, read-only — it stores nothing of its own."""

from django.apps import apps
from django.template import engines


def test_reports_is_installed_and_stores_nothing():
    config = apps.get_app_config("reports")
    assert list(config.get_models()) == []


def test_the_dashboard_tag_is_reports():
    from reports.templatetags import staff_dashboard

    assert engines["django"].engine.template_libraries["staff_dashboard"] is staff_dashboard.register
