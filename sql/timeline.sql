-- Requests, 502s and 504s per UTC minute: the report's timeline (minutes
-- without a request are absent here; the report lists them with zeros).
-- Rows without a time (the log line had none) are left out, as the report
-- leaves them out of its timeline.
SELECT date_trunc('minute', time) AS minute,
       COUNT(*) AS requests,
       SUM(CASE WHEN status = 502 THEN 1 ELSE 0 END) AS status_502,
       SUM(CASE WHEN status = 504 THEN 1 ELSE 0 END) AS status_504
FROM requests
WHERE time IS NOT NULL
GROUP BY date_trunc('minute', time)
ORDER BY minute
