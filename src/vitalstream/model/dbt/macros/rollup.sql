{#- A roll-up of daily_aggregates over `period` columns (ISO week, calendar month): steps add
    up, the sleep-only average is re-weighted by the readings behind each day's average (not an
    average of averages). Incremental like the daily table: only periods with changed days. -#}
{% macro rollup_daily(period, first_day) -%}
with
{% if is_incremental() %}
changed as (
  select distinct user_id, {{ period | join(', ') }} from {{ ref('daily_aggregates') }}
  where {{ arrived_since('last_processed_at') }}
),
{% endif %}
days as (
  select d.* from {{ ref('daily_aggregates') }} d
  {% if is_incremental() %}
  join changed c on c.user_id = d.user_id
  {%- for p in period %} and c.{{ p }} = d.{{ p }}{% endfor %}
  {% endif %}
)
select
  user_id,
  {{ period | join(', ') }},
  min({{ first_day }}) as period_start,
  cast(sum(total_steps) as bigint) as total_steps,
  sum(sleep_heart_rate_sum) / nullif(sum(sleep_heart_rate_count), 0) as avg_heart_rate,
  cast(count(*) as bigint) as days,
  cast(sum(events) as bigint) as events,
  cast(sum(sleep_events) as bigint) as sleep_events,
  cast(sum(sleep_heart_rate_count) as bigint) as sleep_heart_rate_count,
  max(last_processed_at) as last_processed_at
from days
group by user_id, {{ period | join(', ') }}
{%- endmacro %}
