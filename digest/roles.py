"""The newsroom's roles, as Django groups with model permissions.

``sync_roles`` makes the groups hold exactly these permissions. It runs in a data
migration and from ``manage.py sync_roles``, so every deployment keeps them right.
"""

from django.apps import apps as global_apps

CONTRIBUTOR, EDITOR, PUBLISHER = "Contributor", "Editor", "Publisher"

_WRITING = [
    "stories.add_story", "stories.change_story", "stories.view_story",
    "stories.add_source", "stories.change_source", "stories.delete_source", "stories.view_source",
    "stories.add_theme", "stories.change_theme", "stories.view_theme",
    "companies.add_company", "companies.change_company", "companies.view_company",
    "taggit.add_tag", "taggit.change_tag", "taggit.view_tag",
    "digest.view_issue", "digest.view_placement",
    "intake.view_candidate", "intake.change_candidate", "intake.add_candidate", "intake.view_feed",
]  # fmt: skip
_EDITING = [
    "stories.delete_story", "stories.delete_theme", "companies.delete_company", "taggit.delete_tag",
    "digest.add_issue", "digest.change_issue",
    "digest.add_placement", "digest.change_placement", "digest.delete_placement",
    "digest.review_issue", "digest.view_publicationrun", "digest.view_publicationstep",
    "intake.add_feed", "intake.change_feed", "intake.delete_feed",
]  # fmt: skip
_PUBLISHING = ["digest.delete_issue", "digest.publish_issue", "digest.correct_issue"]

ROLE_PERMISSIONS = {
    CONTRIBUTOR: _WRITING,
    EDITOR: _WRITING + _EDITING,
    PUBLISHER: _WRITING + _EDITING + _PUBLISHING,
}


def grant(role, *names):
    """Give ``role`` an outer app's permissions too (``"app_label.codename"``), from its ``AppConfig.ready()``.

    The app's own data migration then calls ``sync_roles`` so that deployments get them.
    """
    ROLE_PERMISSIONS[role].extend(name for name in names if name not in ROLE_PERMISSIONS[role])


def sync_roles(apps=global_apps):
    """Create the role groups and give each exactly its permissions."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # In a migration the permissions may not exist yet: Django creates them after
        # all migrations ran. create_permissions skips app configs without models_module.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        wanted, missing = [], []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            (wanted if permission else missing).append(permission or name)
        # An early migration runs before later models exist; the migration adding them syncs again.
        if missing and apps is global_apps:
            raise LookupError(f"Unknown permissions for {role}: {', '.join(missing)}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(wanted)
