-- Causes of the 502s and of the 504s: the report's causes_502 and
-- causes_504 tables, summed over every dump of the view.
SELECT status, cause, COUNT(*) AS requests
FROM requests
WHERE status IN (502, 504)
GROUP BY status, cause
ORDER BY status, requests DESC, cause
