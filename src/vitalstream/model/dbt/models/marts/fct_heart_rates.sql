{{ config(unique_key='event_id') }}
-- depends_on: {{ ref('stg_users') }}
-- depends_on: {{ ref('stg_activities') }}
-- One row per seed-3 heart-rate event, with the user and activity versions valid at the event
-- time, the user's previous reading and their day's min/max/avg.
--
-- Incremental by user: a user with new events, or a new version of their user record or of an
-- activity they did, gets all their events recomputed (the previous reading and the day's
-- figures depend on neighbouring events; the version mapping on the dimension), so late events
-- and late versions land exactly; every other row stays as it is.
with
{% if is_incremental() %}
changed_users as (
  select user_id from {{ ref('stg_heart_rates') }} where {{ arrived_since('processed_timestamp') }}
  union
  select user_id from {{ ref('stg_users') }} where {{ arrived_since('updated_at', 'processed_timestamp') }}
  union
  select e.user_id from {{ ref('stg_heart_rates') }} e
  where e.activity_id in (
    select activity_id from {{ ref('stg_activities') }} where {{ arrived_since('updated_at', 'processed_timestamp') }})
),
{% endif %}
events as (
  select * from {{ ref('stg_heart_rates') }}
  {% if is_incremental() %}
  where user_id in (select user_id from changed_users)
  {% endif %}
),
measured as (
  select
    e.*,
    lag(heart_rate) over (partition by user_id order by event_time, event_id) as previous_heart_rate,
    min(heart_rate) over (partition by user_id, event_date) as day_min_heart_rate,
    max(heart_rate) over (partition by user_id, event_date) as day_max_heart_rate,
    avg(cast(heart_rate as double precision)) over (partition by user_id, event_date) as day_avg_heart_rate
  from events e
)
select
  m.event_id,
  m.user_id,
  u.user_sk,
  m.activity_id,
  a.activity_sk,
  {{ date_key('m.event_date') }} as date_key,
  m.time_key,
  m.event_time,
  m.event_date,
  m.heart_rate,
  m.previous_heart_rate,
  m.day_min_heart_rate,
  m.day_max_heart_rate,
  m.day_avg_heart_rate,
  m.latitude,
  m.longitude,
  m.processed_timestamp
from measured m
left join {{ ref('dim_users') }} u
  on u.user_id = m.user_id and m.event_time >= u.valid_from
  and (u.valid_to is null or m.event_time < u.valid_to)
left join {{ ref('dim_activities') }} a
  on a.activity_id = m.activity_id and m.event_time >= a.valid_from
  and (a.valid_to is null or m.event_time < a.valid_to)
