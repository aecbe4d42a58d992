from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "classes"
    verbose_name = "Classes"

    def ready(self):
        from . import catalog_cache

        catalog_cache.connect()  # a change to a course shows at once on the cached catalog pages
