"""The trigger that keeps ``payments_rollup`` in step with ``payments_payment`` (PostgreSQL
only): every insert, update and delete of a payment takes its old totals out and puts its new
ones in, in the same transaction, whichever code path wrote it (services, sync, the outbox,
bulk loads). An update that changes none of the counted columns does nothing. The table is
filled from the existing payments here."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION payments_rollup_add(
    d bigint, r bigint, st text, tr text, pd boolean, req timestamptz, closed timestamptz,
    amt numeric, sign integer
) RETURNS void AS $$
DECLARE
    v_state text;
    v_days integer := -1;
BEGIN
    v_state := CASE
        WHEN st = 'failed' THEN 'failed'
        WHEN tr IN ('Paid', 'MarkedAsPaid') THEN 'paid'
        WHEN tr IN ('Canceled', 'Cancelled') THEN 'canceled'
        WHEN tr IN ('', 'Sent') THEN 'open'
        ELSE 'other' END;
    IF v_state = 'paid' AND closed IS NOT NULL AND req IS NOT NULL THEN
        v_days := greatest(0, floor(extract(epoch FROM closed - req) / 86400))::integer;
    END IF;
    INSERT INTO payments_rollup AS t
        (dashboard_id, requester_id, state, is_past_due, days_to_pay, count, amount)
    VALUES (d, coalesce(r, 0), v_state, pd, v_days, sign, sign * amt)
    ON CONFLICT ON CONSTRAINT payments_rollup_key
    DO UPDATE SET count = t.count + EXCLUDED.count, amount = t.amount + EXCLUDED.amount;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION payments_rollup_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND
        (OLD.dashboard_id, OLD.created_by_id, OLD.status, OLD.textrequest_payment_status,
         OLD.is_past_due, OLD.requested_at, OLD.closed_at, OLD.amount_requested)
        IS NOT DISTINCT FROM
        (NEW.dashboard_id, NEW.created_by_id, NEW.status, NEW.textrequest_payment_status,
         NEW.is_past_due, NEW.requested_at, NEW.closed_at, NEW.amount_requested) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM payments_rollup_add(OLD.dashboard_id, OLD.created_by_id, OLD.status,
            OLD.textrequest_payment_status, OLD.is_past_due, OLD.requested_at, OLD.closed_at,
            OLD.amount_requested, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM payments_rollup_add(NEW.dashboard_id, NEW.created_by_id, NEW.status,
            NEW.textrequest_payment_status, NEW.is_past_due, NEW.requested_at, NEW.closed_at,
            NEW.amount_requested, 1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS payments_rollup_trigger ON payments_payment;
CREATE TRIGGER payments_rollup_trigger
    AFTER INSERT OR UPDATE OR DELETE ON payments_payment
    FOR EACH ROW EXECUTE FUNCTION payments_rollup_apply();
"""

FILL = """
DELETE FROM payments_rollup;
INSERT INTO payments_rollup
    (dashboard_id, requester_id, state, is_past_due, days_to_pay, count, amount)
SELECT dashboard_id, requester_id, state, is_past_due, days_to_pay, count(*), sum(amount)
FROM (
    SELECT dashboard_id, coalesce(created_by_id, 0) AS requester_id, is_past_due,
        amount_requested AS amount,
        CASE WHEN status = 'failed' THEN 'failed'
             WHEN textrequest_payment_status IN ('Paid', 'MarkedAsPaid') THEN 'paid'
             WHEN textrequest_payment_status IN ('Canceled', 'Cancelled') THEN 'canceled'
             WHEN textrequest_payment_status IN ('', 'Sent') THEN 'open'
             ELSE 'other' END AS state,
        CASE WHEN textrequest_payment_status IN ('Paid', 'MarkedAsPaid') AND status <> 'failed'
                  AND closed_at IS NOT NULL AND requested_at IS NOT NULL
             THEN greatest(0, floor(extract(epoch FROM closed_at - requested_at) / 86400))::integer
             ELSE -1 END AS days_to_pay
    FROM payments_payment
) AS p
GROUP BY dashboard_id, requester_id, state, is_past_due, days_to_pay;
"""

DROP = """
DROP TRIGGER IF EXISTS payments_rollup_trigger ON payments_payment;
DROP FUNCTION IF EXISTS payments_rollup_apply();
DROP FUNCTION IF EXISTS payments_rollup_add(
    bigint, bigint, text, text, boolean, timestamptz, timestamptz, numeric, integer);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)
        schema_editor.execute(FILL)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_rollup")]
    operations = [migrations.RunPython(create, drop)]
