{{ config(unique_key='event_id') }}
-- Seed-4 smartwatch events: the wearer's user (the device when no profile maps it), steps since
-- the device's previous event, heart rate and whether the wearer was asleep.
select
  event_id,
  coalesce(user_id, patient_id) as user_id,
  device_id,
  event_time,
  {{ utc_date('event_time') }} as event_date,
  heart_rate,
  coalesce(steps, 0) as steps,
  coalesce(sleeping, false) as sleeping,
  processed_timestamp
from {{ source('warehouse', 'smartwatch_events') }}
{% if is_incremental() %}
where {{ arrived_since('processed_timestamp') }}
{% endif %}
