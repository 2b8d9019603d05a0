-- The report's totals: requests, 5xx, 502, 504, and requests a retry rescued.
SELECT COUNT(*) AS requests,
       SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS status_5xx,
       SUM(CASE WHEN status = 502 THEN 1 ELSE 0 END) AS status_502,
       SUM(CASE WHEN status = 504 THEN 1 ELSE 0 END) AS status_504,
       SUM(CASE WHEN rescued THEN 1 ELSE 0 END) AS rescued
FROM requests
