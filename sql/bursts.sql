-- Burst minutes: the minutes whose 502 count reaches the threshold the
-- report's bursts use (src/analyze/incident.rs), over the whole view. The
-- per-minute 502 counts run over every minute from the first to the last
-- (quiet minutes count 0); `ordinary_max` = max(3, 4 × their median); the
-- baseline is the mean of the minutes below it; the threshold is
-- max(ordinary_max, the smallest k a Poisson count at the baseline reaches
-- with probability under 0.001 per minute; above a baseline of 500, the
-- normal approximation λ + 3.1·√λ). The report then joins hot minutes at
-- most two minutes apart into windows and lists the windows whose peak is
-- at least a tenth of the largest one's; this query lists the hot minutes
-- themselves, with the threshold.
-- Portable: minutes are numbered from civil dates by integer arithmetic
-- (no engine's own date difference), numbers by crossed VALUES lists.
WITH per_minute AS (
  SELECT date_trunc('minute', time) AS minute,
         SUM(CASE WHEN status = 502 THEN 1 ELSE 0 END) AS s502
  FROM requests
  WHERE time IS NOT NULL
  GROUP BY date_trunc('minute', time)
),
civil AS (
  SELECT minute, s502,
         EXTRACT(YEAR FROM minute) - CASE WHEN EXTRACT(MONTH FROM minute) <= 2 THEN 1 ELSE 0 END AS y,
         EXTRACT(MONTH FROM minute) AS m,
         EXTRACT(DAY FROM minute) AS d,
         EXTRACT(HOUR FROM minute) * 60 + EXTRACT(MINUTE FROM minute) AS min_of_day
  FROM per_minute
),
numbered AS (
  -- days from 1970-01-01 (H. Hinnant's days_from_civil), then minutes
  SELECT minute, s502,
         (FLOOR(y / 400) * 146097
          + (y - FLOOR(y / 400) * 400) * 365
          + FLOOR((y - FLOOR(y / 400) * 400) / 4)
          - FLOOR((y - FLOOR(y / 400) * 400) / 100)
          + FLOOR((153 * (m + CASE WHEN m > 2 THEN -3 ELSE 9 END) + 2) / 5) + d - 1
          - 719468) * 1440 + min_of_day AS epoch_min
  FROM civil
),
span AS (
  SELECT MAX(epoch_min) - MIN(epoch_min) + 1 AS n_minutes,
         MAX(epoch_min) - MIN(epoch_min) + 1 - COUNT(*) AS quiet
  FROM numbered
),
ranked AS (
  -- position of each logged minute among all the span's counts, ascending
  SELECT n.s502, s.quiet + ROW_NUMBER() OVER (ORDER BY n.s502) - 1 AS pos
  FROM numbered n CROSS JOIN span s
),
median AS (
  SELECT COALESCE(MAX(CASE WHEN r.pos = FLOOR(s.n_minutes / 2) THEN r.s502 END), 0) AS median
  FROM ranked r CROSS JOIN span s
),
ordinary AS (
  SELECT CASE WHEN 4 * md.median > 3 THEN 4 * md.median ELSE 3 END AS ordinary_max
  FROM median md
),
baseline AS (
  -- the quiet minutes are ordinary (0 < ordinary_max)
  SELECT o.ordinary_max,
         CASE WHEN MAX(s.quiet) + SUM(CASE WHEN n.s502 < o.ordinary_max THEN 1 ELSE 0 END) = 0
              THEN MAX(md.median)
              ELSE SUM(CASE WHEN n.s502 < o.ordinary_max THEN n.s502 ELSE 0 END) * 1.0
                   / (MAX(s.quiet) + SUM(CASE WHEN n.s502 < o.ordinary_max THEN 1 ELSE 0 END))
         END AS rate
  FROM numbered n CROSS JOIN span s CROSS JOIN ordinary o CROSS JOIN median md
  GROUP BY o.ordinary_max
),
digits AS (
  SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t(d)
),
k AS (
  SELECT a.d + 10 * b.d + 100 * c.d AS k
  FROM digits a CROSS JOIN digits b CROSS JOIN digits c
),
pmf AS (
  -- ln P(X = k) = -rate + k ln rate - ln k!
  SELECT k.k,
         SUM(CASE WHEN k.k = 0 THEN 0 ELSE LN(k.k) END)
           OVER (ORDER BY k.k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ln_fact,
         bl.rate
  FROM k CROSS JOIN baseline bl
  WHERE bl.rate > 0 AND bl.rate <= 500
),
cdf AS (
  SELECT k,
         SUM(EXP(-rate + k * LN(rate) - ln_fact))
           OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cdf
  FROM pmf
),
poisson AS (
  SELECT CASE WHEN bl.rate <= 0 THEN 1
              WHEN bl.rate > 500 THEN CEIL(bl.rate + 3.1 * SQRT(bl.rate))
              ELSE (SELECT MIN(k) FROM cdf WHERE 1 - cdf < 0.001) + 1
         END AS p_threshold,
         bl.ordinary_max
  FROM baseline bl
),
threshold AS (
  SELECT CAST(CASE WHEN p_threshold > ordinary_max THEN p_threshold ELSE ordinary_max END AS BIGINT)
           AS threshold_per_minute
  FROM poisson
)
SELECT n.minute, n.s502 AS status_502, t.threshold_per_minute
FROM numbered n CROSS JOIN threshold t
WHERE n.s502 >= t.threshold_per_minute
ORDER BY n.minute
