-- One row per calendar day (UTC) from var dates_from until var dates_until.
with days as (
  {{ dbt.date_spine('day', "cast('" ~ var('dates_from') ~ "' as date)", "cast('" ~ var('dates_until') ~ "' as date)") }}
), typed as (
  select cast(date_day as date) as date_day from days
)
select
  {{ date_key('date_day') }} as date_key,
  date_day,
  cast(extract(year from date_day) as integer) as year,
  cast(extract(quarter from date_day) as integer) as quarter,
  cast(extract(month from date_day) as integer) as month,
  cast(extract(day from date_day) as integer) as day_of_month,
  {{ iso_year('date_day') }} as iso_year,
  {{ iso_week('date_day') }} as iso_week,
  {{ iso_day_of_week('date_day') }} as day_of_week,
  {{ iso_day_of_week('date_day') }} >= 6 as is_weekend,
  {{ season('extract(month from date_day)') }} as season_northern,
  {{ season('extract(month from date_day)', southern=true) }} as season_southern
from typed
