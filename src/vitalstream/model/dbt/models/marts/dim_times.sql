-- One row per minute of the day (UTC); day parts split at 06, 12 and 18.
with minutes as (
  select cast(generated_number - 1 as integer) as time_key
  from ({{ dbt.generate_series(1440) }}) s
)
select
  time_key,
  cast(floor(time_key / 60.0) as integer) as hour,
  mod(time_key, 60) as minute,
  case when time_key < 360 then 'night'
       when time_key < 720 then 'morning'
       when time_key < 1080 then 'afternoon'
       else 'evening' end as day_part
from minutes
