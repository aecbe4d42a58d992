from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs):
    """Keep the staff role groups in step with permissions added by later migrations."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from .roles import ALL_APPS, roles_sync

    for label in (*ALL_APPS, "axes"):  # this signal may come before those apps' own permission step
        create_permissions(apps.get_app_config(label), verbosity=0, using=using)
    roles_sync(Group, Permission)


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Site"

    def ready(self):
        from . import (
            checks,  # noqa: F401  (registers the deployment checks)
            tasks,  # noqa: F401  (registers core's Celery tasks: the outbox queues delivery by task name)
        )

        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="core.sync_roles")
