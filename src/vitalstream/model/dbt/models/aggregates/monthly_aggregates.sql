{{ config(unique_key=['user_id', 'year', 'month']) }}
-- Seed 4, per user and calendar month (UTC). period_start is the first of the month.
{{ rollup_daily(['year', 'month'], 'cast(' ~ dbt.date_trunc('month', 'event_date') ~ ' as date)') }}
