{{ config(unique_key=['user_id', 'iso_year', 'iso_week']) }}
-- Seed 4, per user and ISO-8601 week (iso_year, iso_week): 2024-12-30 is week 1 of 2025, which
-- their job, grouping by week number alone, merged with January 2024. period_start is the Monday.
{{ rollup_daily(['iso_year', 'iso_week'],
    'cast(' ~ dbt.dateadd('day', '1 - ' ~ iso_day_of_week('event_date'), 'event_date') ~ ' as date)') }}
