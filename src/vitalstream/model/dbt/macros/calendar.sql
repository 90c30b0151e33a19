{#- Calendar parts of a UTC time, the same on DuckDB and PostgreSQL.
    Timestamps are stored as timestamptz; `at time zone 'UTC'` makes the day and hour those of
    UTC whatever the session's time zone is. -#}

{% macro utc(expr) -%}
  ({{ expr }} at time zone 'UTC')
{%- endmacro %}

{% macro utc_date(expr) -%}
  cast({{ utc(expr) }} as date)
{%- endmacro %}

{#- ISO-8601 week-numbering year: 2024-12-30 belongs to 2025 (its week 1). -#}
{% macro iso_year(day) -%}
  cast(extract(isoyear from {{ day }}) as integer)
{%- endmacro %}

{% macro iso_week(day) -%}
  cast(extract(week from {{ day }}) as integer)
{%- endmacro %}

{#- 1 = Monday ... 7 = Sunday -#}
{% macro iso_day_of_week(day) -%}
  cast(extract(isodow from {{ day }}) as integer)
{%- endmacro %}

{#- yyyymmdd as an integer: the key of dim_dates -#}
{% macro date_key(day) -%}
  cast(extract(year from {{ day }}) * 10000 + extract(month from {{ day }}) * 100 + extract(day from {{ day }}) as integer)
{%- endmacro %}

{#- minute of the UTC day, 0-1439: the key of dim_times -#}
{% macro time_key(expr) -%}
  cast(extract(hour from {{ utc(expr) }}) * 60 + extract(minute from {{ utc(expr) }}) as integer)
{%- endmacro %}

{#- Meteorological seasons; the southern hemisphere's are the northern ones shifted by half a year. -#}
{% macro season(month, southern=false) -%}
  {%- set names = ['autumn', 'winter', 'spring', 'summer'] if southern else ['spring', 'summer', 'autumn', 'winter'] -%}
  case when {{ month }} in (3, 4, 5) then '{{ names[0] }}'
       when {{ month }} in (6, 7, 8) then '{{ names[1] }}'
       when {{ month }} in (9, 10, 11) then '{{ names[2] }}'
       else '{{ names[3] }}' end
{%- endmacro %}
