-- One naive lifecycle, three transactions: enqueue; claim; 3 events + finish.
INSERT INTO jobs (status) VALUES ('queued');
UPDATE jobs SET status = 'running', worker = 'w', updated_at = now()
 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id
             FOR UPDATE SKIP LOCKED LIMIT 1)
 RETURNING id AS job_id \gset
BEGIN;
INSERT INTO job_events (job_id, seq, data) VALUES (:job_id, 1, 'processing'), (:job_id, 2, 'chunk'),
  (:job_id, 3, 'message');
UPDATE jobs SET status = 'completed', updated_at = now() WHERE id = :job_id;
COMMIT;
