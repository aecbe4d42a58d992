"""The staff roles of the back office, as Django groups (made by a migration, kept in step by
``roles_sync``). Patrons and instructors have no staff account and never reach the back office.

- Program coordinator: everything.
- Front desk: desk registrations, cash and check, rosters, attendance; no refunds, no money reports.
- Finance: payments, refunds, the deposit report, the Pass the Buck fund's ledger and reports,
  and adjustments to the fund (with a reason).
"""

COORDINATOR = "Program coordinator"
FRONT_DESK = "Front desk"
FINANCE = "Finance"

ALL_APPS = ("core", "classes", "enrollment", "instructors", "finance", "auth")

#: What the coordinator may do outside ALL_APPS: see and clear staff login lockouts (django-axes).
COORDINATOR_EXTRA: list[tuple[str, str]] = [
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accessfailurelog"),
    ("axes", "view_accesslog"),
]

#: (app label, codename) of each role's permissions; the coordinator gets every permission of
#: ALL_APPS and COORDINATOR_EXTRA.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    FRONT_DESK: [
        ("enrollment", "desk_register"),
        ("enrollment", "override_rules"),
        ("enrollment", "view_roster"),
        ("enrollment", "take_attendance"),
        ("enrollment", "view_order"),
        ("enrollment", "view_registration"),
        ("enrollment", "change_registration"),
        ("enrollment", "view_attendance"),
        ("enrollment", "add_attendance"),
        ("enrollment", "change_attendance"),
        ("enrollment", "view_calllistentry"),
        ("enrollment", "change_calllistentry"),
        ("enrollment", "view_coursedecision"),
        ("finance", "take_offline_payment"),
        ("classes", "view_semester"),
        ("classes", "view_category"),
        ("classes", "view_venue"),
        ("classes", "view_course"),
        ("classes", "view_meeting"),
        ("classes", "view_instructor"),
    ],
    FINANCE: [
        ("finance", "view_payment"),
        ("finance", "take_offline_payment"),
        ("finance", "view_money_reports"),
        ("finance", "view_refund"),
        ("finance", "change_refund"),
        ("finance", "issue_refund"),
        ("finance", "view_stripeevent"),
        ("finance", "view_fund"),
        ("finance", "view_fundentry"),
        ("finance", "adjust_fund"),
        ("finance", "view_donation"),
        ("enrollment", "view_scholarshipwait"),
        ("enrollment", "view_order"),
        ("enrollment", "view_registration"),
        ("classes", "view_semester"),
        ("classes", "view_course"),
    ],
}


def roles_sync(group_model, permission_model) -> None:
    """Create the role groups and set their permissions exactly (works with the historical
    models of a migration as well as the real ones)."""
    coordinator, _ = group_model.objects.get_or_create(name=COORDINATOR)
    extra = permission_model.objects.none()
    for app, codename in COORDINATOR_EXTRA:
        extra |= permission_model.objects.filter(content_type__app_label=app, codename=codename)
    coordinator.permissions.set(permission_model.objects.filter(content_type__app_label__in=ALL_APPS) | extra)
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        query = permission_model.objects.none()
        for app, codename in perms:
            query |= permission_model.objects.filter(content_type__app_label=app, codename=codename)
        group.permissions.set(query)
