{{ config(unique_key='event_id') }}
-- Seed-3 heart-rate events: one row per event, typed, with the UTC day and minute.
select
  event_id,
  cast(patient_id as bigint) as user_id,
  activity_id,
  event_time,
  {{ utc_date('event_time') }} as event_date,
  {{ time_key('event_time') }} as time_key,
  heart_rate,
  latitude,
  longitude,
  processed_timestamp
from {{ source('warehouse', 'heart_rate_events') }}
where heart_rate is not null
{% if is_incremental() %}
  and {{ arrived_since('processed_timestamp') }}
{% endif %}
