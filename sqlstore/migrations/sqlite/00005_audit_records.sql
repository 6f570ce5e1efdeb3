-- +goose Up
-- Audit records take PagerDuty's AuditRecord shape. The records made so far
-- are key lifecycle records: their target becomes the root resource, the
-- key's last four characters a field, and the CLI the method "other".
ALTER TABLE audit_records ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN remote_address TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN method_type TEXT NOT NULL DEFAULT 'other';
ALTER TABLE audit_records ADD COLUMN method_truncated_token TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN method_description TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN root_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN root_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN root_summary TEXT NOT NULL DEFAULT '';
-- JSON arrays of details.fields and details.references.
ALTER TABLE audit_records ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE audit_records ADD COLUMN refs TEXT NOT NULL DEFAULT '[]';
UPDATE audit_records SET
    root_type = 'api_key_reference',
    root_id = target_id,
    root_summary = details,
    method_type = CASE actor_type WHEN 'cli' THEN 'other' ELSE 'api_token' END,
    method_description = CASE actor_type WHEN 'cli' THEN 'gatehouse CLI' ELSE '' END,
    fields = '[{"name":"kind","value":"' || target_type || '"},{"name":"last4","value":"' || replace(details, '…', '') || '"}]';
ALTER TABLE audit_records DROP COLUMN target_type;
ALTER TABLE audit_records DROP COLUMN target_id;
ALTER TABLE audit_records DROP COLUMN details;

CREATE INDEX audit_records_root ON audit_records (account_id, root_type, root_id, seq);
