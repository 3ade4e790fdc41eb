from django.db import migrations


def sync_roles(apps, schema_editor):
    # The newsletter's permissions (granted in NewsletterConfig.ready) exist from here on.
    from digest.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0001_initial"), ("digest", "0003_roles")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
