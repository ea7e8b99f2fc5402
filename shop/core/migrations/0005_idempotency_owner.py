# Idempotency-Key records are keyed by owner: a signed-in user ("user:<id>") or a guest known by
# its cart token ("guest:<digest>"). Existing records belong to their user.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_outbox_task_outcome'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='idempotencyrecord',
            name='owner',
            field=models.CharField(default='', max_length=80),
            preserve_default=False,
        ),
        migrations.RunSQL(
            "UPDATE core_idempotencyrecord SET owner = 'user:' || user_id",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveConstraint(
            model_name='idempotencyrecord',
            name='core_idempotency_user_key',
        ),
        migrations.AlterField(
            model_name='idempotencyrecord',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='idempotencyrecord',
            constraint=models.UniqueConstraint(fields=('owner', 'key'), name='core_idempotency_owner_key'),
        ),
    ]
