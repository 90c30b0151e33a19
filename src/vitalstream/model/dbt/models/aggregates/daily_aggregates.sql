{{ config(unique_key=['user_id', 'event_date']) }}
-- Seed 4, per user and UTC day: total steps and the average heart rate DURING SLEEP only
-- (NULL when the user did not sleep that day; their job averaged over every event).
-- Incremental: only the days that received events since the last run are recomputed, each
-- from all of its events, so a late event updates exactly its day and a re-run changes nothing.
with
{% if is_incremental() %}
changed_days as (
  select distinct user_id, event_date from {{ ref('stg_smartwatch') }}
  where {{ arrived_since('processed_timestamp', 'last_processed_at') }}
),
{% endif %}
events as (
  select s.* from {{ ref('stg_smartwatch') }} s
  {% if is_incremental() %}
  join changed_days c on c.user_id = s.user_id and c.event_date = s.event_date
  {% endif %}
)
select
  user_id,
  event_date,
  {{ iso_year('event_date') }} as iso_year,
  {{ iso_week('event_date') }} as iso_week,
  cast(extract(year from event_date) as integer) as year,
  cast(extract(month from event_date) as integer) as month,
  cast(sum(steps) as bigint) as total_steps,
  avg(case when sleeping then cast(heart_rate as double precision) end) as avg_heart_rate,
  cast(count(*) as bigint) as events,
  cast(sum(case when sleeping then 1 else 0 end) as bigint) as sleep_events,
  cast(coalesce(sum(case when sleeping then heart_rate end), 0) as double precision) as sleep_heart_rate_sum,
  cast(count(case when sleeping then heart_rate end) as bigint) as sleep_heart_rate_count,
  max(processed_timestamp) as last_processed_at
from events
group by user_id, event_date
