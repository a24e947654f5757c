from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("listings", "0002_following"),
    ]

    operations = [
        migrations.AddField(
            model_name="right",
            name="verification_verdict",
            field=models.CharField(
                blank=True, help_text="passed, warning, failed or needs_review; empty until verified.", max_length=16
            ),
        ),
        migrations.AddField(
            model_name="right",
            name="verified_as_of",
            field=models.DateTimeField(blank=True, help_text="When the register was read.", null=True),
        ),
        migrations.AddField(
            model_name="right",
            name="verification_register",
            field=models.CharField(blank=True, help_text="The register that was read.", max_length=120),
        ),
        migrations.AddField(
            model_name="right",
            name="verification_summary",
            field=models.TextField(blank=True, help_text="One line per check: outcome and evidence."),
        ),
    ]
