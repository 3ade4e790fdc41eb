from django.db import migrations


def sync_roles(apps, schema_editor):
    from digest.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    """Editors and publishers see publication runs: re-sync the roles."""

    dependencies = [("digest", "0004_publication_runs")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
