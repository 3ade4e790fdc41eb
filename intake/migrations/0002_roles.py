from django.db import migrations


def sync_roles(apps, schema_editor):
    from digest.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    """Contributors triage the inbox; editors manage the feeds: re-sync the roles."""

    dependencies = [("intake", "0001_initial"), ("digest", "0013_share_links")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
