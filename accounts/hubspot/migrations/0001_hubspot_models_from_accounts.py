"""The HubSpot models, moved from accounts (its 0012 forgot them): state only.

Their tables keep the names they had (`db_table`), so nothing is created and no row
moves, on a fresh database and on one migrated before the move alike. The content
types follow the models, so admin history and permissions stay attached to them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = [
    "drift",
    "fieldrule",
    "hubspotratewindow",
    "syncchange",
    "syncconflict",
    "synccursor",
    "syncissue",
    "syncrun",
    "syncstate",
    "webhookevent",
]


def content_types_follow(apps, schema_editor, source="accounts", target="hubspot"):
    """Content types recorded under `source` now name `target` (skipping any the target
    already has), so permissions and admin log entries keep pointing at the models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label=target, model__in=MODELS).values_list("model", flat=True)
    )
    ContentType.objects.filter(app_label=source, model__in=set(MODELS) - taken).update(
        app_label=target
    )


def content_types_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, source="hubspot", target="accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0012_hubspot_models_move_to_hubspot_app'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SyncCursor',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('object_type', models.CharField(max_length=20, unique=True)),
                        ('since_ms', models.BigIntegerField(default=0)),
                        ('modified_ms', models.BigIntegerField(default=0)),
                        ('last_id', models.BigIntegerField(default=0)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'accounts_synccursor',
                    },
                ),
                migrations.CreateModel(
                    name='SyncRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('import', 'Full import'), ('poll', 'Incremental sync'), ('archived', 'Archived sweep'), ('retry', 'Quarantine retry'), ('replay', 'Replay of a time window'), ('reconcile', 'Reconciliation')], max_length=10)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('phase', models.CharField(blank=True, max_length=20)),
                        ('cursors', models.JSONField(blank=True, default=dict)),
                        ('records_done', models.PositiveIntegerField(default=0)),
                        ('records_estimated', models.PositiveIntegerField(default=0)),
                        ('created', models.PositiveIntegerField(default=0)),
                        ('updated', models.PositiveIntegerField(default=0)),
                        ('quarantined', models.PositiveIntegerField(default=0)),
                        ('skipped', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'accounts_syncrun',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='FieldRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('field', models.CharField(max_length=40, unique=True)),
                        ('property', models.CharField(max_length=100, verbose_name='HubSpot property')),
                        ('owner', models.CharField(choices=[('hubspot', 'HubSpot (pull only)'), ('lifecycle', 'Lifecycle (push only)'), ('two_way', 'Two-way')], max_length=10)),
                        ('policy', models.CharField(choices=[('latest', 'Latest change wins'), ('ask', 'Ask a person')], default='latest', max_length=10)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_fieldrule',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='HubSpotRateWindow',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('bucket', models.CharField(choices=[('ten_seconds', 'Ten-second rolling'), ('search', 'Search, per second'), ('daily', 'Daily')], max_length=16)),
                        ('window_start', models.DateTimeField()),
                        ('calls', models.PositiveIntegerField(default=0)),
                        ('rate_limited', models.PositiveIntegerField(default=0)),
                        ('retries', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'accounts_hubspotratewindow',
                        'indexes': [models.Index(fields=['window_start'], name='hubspot_rate_window_start')],
                        'constraints': [models.UniqueConstraint(fields=('bucket', 'window_start'), name='hubspot_rate_window_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='SyncIssue',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('object_type', models.CharField(max_length=20)),
                        ('hubspot_id', models.CharField(max_length=32)),
                        ('reason', models.CharField(max_length=500)),
                        ('payload', models.JSONField(blank=True, default=dict)),
                        ('candidates', models.JSONField(blank=True, default=list)),
                        ('source', models.CharField(choices=[('import', 'Import'), ('poll', 'Incremental sync'), ('webhook', 'Webhook'), ('push', 'Push to HubSpot'), ('resolve', 'Conflict resolved'), ('repair', 'Drift repaired'), ('replay', 'Replay of a time window'), ('match', 'Matched by a person')], max_length=10)),
                        ('attempts', models.PositiveIntegerField(default=1)),
                        ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'accounts_syncissue',
                        'ordering': ['-last_seen_at', '-id'],
                        'indexes': [models.Index(fields=['resolved_at'], name='hubspot_sync_issue_open')],
                        'constraints': [models.UniqueConstraint(fields=('object_type', 'hubspot_id'), name='hubspot_sync_issue_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='Drift',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('fields', 'Fields differ'), ('missing_here', 'In HubSpot, not linked here'), ('missing_there', 'Linked here, gone from HubSpot')], max_length=15)),
                        ('hubspot_id', models.CharField(max_length=32)),
                        ('fields', models.JSONField(blank=True, default=dict)),
                        ('found_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('repaired_at', models.DateTimeField(blank=True, null=True)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account')),
                        ('repaired_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='drifts', to='hubspot.syncrun')),
                    ],
                    options={
                        'db_table': 'accounts_drift',
                        'ordering': ['-found_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='SyncState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('base', models.JSONField(blank=True, default=dict)),
                        ('base_at', models.JSONField(blank=True, default=dict)),
                        ('remote', models.JSONField(blank=True, default=dict)),
                        ('remote_ms', models.BigIntegerField(default=0)),
                        ('remote_at', models.JSONField(blank=True, default=dict)),
                        ('written', models.JSONField(blank=True, default=dict)),
                        ('pushed_at', models.DateTimeField(blank=True, null=True)),
                        ('push_failures', models.PositiveSmallIntegerField(default=0)),
                        ('checked_at', models.DateTimeField(blank=True, null=True)),
                        ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='hubspot_state', to='accounts.account')),
                    ],
                    options={
                        'db_table': 'accounts_syncstate',
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('dedupe_key', models.CharField(max_length=64, unique=True)),
                        ('subscription_type', models.CharField(max_length=60)),
                        ('object_id', models.CharField(max_length=32)),
                        ('occurred_ms', models.BigIntegerField()),
                        ('portal_id', models.CharField(blank=True, max_length=32)),
                        ('change_source', models.CharField(blank=True, max_length=40)),
                        ('payload', models.JSONField()),
                        ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('processed_at', models.DateTimeField(blank=True, null=True)),
                        ('outcome', models.CharField(blank=True, max_length=200)),
                    ],
                    options={
                        'db_table': 'accounts_webhookevent',
                        'ordering': ['occurred_ms', 'id'],
                        'indexes': [models.Index(fields=['processed_at', 'occurred_ms'], name='hubspot_webhook_pending')],
                    },
                ),
                migrations.CreateModel(
                    name='SyncConflict',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('field', models.CharField(max_length=40)),
                        ('base_value', models.TextField(blank=True)),
                        ('ours', models.TextField(blank=True)),
                        ('ours_at', models.DateTimeField(blank=True, null=True)),
                        ('ours_by', models.CharField(blank=True, max_length=200)),
                        ('theirs', models.TextField(blank=True)),
                        ('theirs_at', models.DateTimeField(blank=True, null=True)),
                        ('theirs_by', models.CharField(blank=True, max_length=200)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('resolved', 'Resolved')], default='open', max_length=10)),
                        ('resolution', models.TextField(blank=True)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='hubspot_conflicts', to='accounts.account')),
                        ('resolved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_syncconflict',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('account', 'field'), name='hubspot_conflict_one_open_per_field')],
                    },
                ),
                migrations.CreateModel(
                    name='SyncChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('object_type', models.CharField(max_length=20)),
                        ('object_id', models.BigIntegerField(help_text='Our primary key of the changed record.')),
                        ('hubspot_id', models.CharField(blank=True, max_length=32)),
                        ('field', models.CharField(max_length=50)),
                        ('old_value', models.TextField(blank=True)),
                        ('new_value', models.TextField(blank=True)),
                        ('source', models.CharField(choices=[('import', 'Import'), ('poll', 'Incremental sync'), ('webhook', 'Webhook'), ('push', 'Push to HubSpot'), ('resolve', 'Conflict resolved'), ('repair', 'Drift repaired'), ('replay', 'Replay of a time window'), ('match', 'Matched by a person')], max_length=10)),
                        ('change_source', models.CharField(blank=True, max_length=40)),
                        ('note', models.CharField(blank=True, help_text='Why, when a policy decided between two edits.', max_length=100)),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='hubspot_changes', to='accounts.account')),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='hubspot.syncrun')),
                    ],
                    options={
                        'db_table': 'accounts_syncchange',
                        'ordering': ['-at', '-id'],
                        'indexes': [models.Index(fields=['account', '-at'], name='hubspot_change_account_at'), models.Index(fields=['-at'], name='hubspot_change_at')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
