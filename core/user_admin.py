"""Users and roles in the back office.

The program coordinator manages staff accounts and assigns them to the roles (the groups made by
``core.roles``); what a role can do, who is a superuser, and permissions given to one person
beyond the roles are a superuser's call. So, for anyone but a superuser:

- a user's "Superuser status" and "User permissions" are shown read-only (not in the form, so a
  crafted POST carrying them changes nothing);
- a superuser's account can be seen but not changed, given a new password or deleted (one by one
  or with the list's "delete" action);
- groups can be seen (to know what each role gives) but not added, changed or deleted.

Accessibility: the roles are a list of checkboxes and permissions a plain labelled list (Django's
two-pane "filter" widget names its icons in a way screen readers are not allowed to read), and the
date-and-time inputs are named (``core.admin_a11y``).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from .admin_a11y import NamedSplitDateTimeMixin

#: The user form's fields only a superuser may set.
SUPERUSER_ONLY = ("is_superuser", "user_permissions")


def _is_superuser(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class StaffUserAdmin(NamedSplitDateTimeMixin, UserAdmin):
    filter_horizontal = ()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not _is_superuser(request):
            fields += SUPERUSER_ONLY
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not _is_superuser(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not _is_superuser(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        """The list's "delete selected": a superuser among them stops it for anyone else (the
        action answers 403 to the confirmation)."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not _is_superuser(request) and any(getattr(obj, "is_superuser", False) for obj in objs):
            perms_needed = set(perms_needed) | {"superuser accounts"}
        return deleted, model_count, perms_needed, protected

    def delete_queryset(self, request, queryset):
        if not _is_superuser(request):
            queryset = queryset.filter(is_superuser=False)
        super().delete_queryset(request, queryset)


class RoleGroupAdmin(GroupAdmin):
    filter_horizontal = ()

    def has_add_permission(self, request):
        return _is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return _is_superuser(request)


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, StaffUserAdmin)
admin.site.register(Group, RoleGroupAdmin)
