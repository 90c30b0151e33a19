-- Type-2 activity dimension (seed 3): one row per version, activity_sk per (activity_id, last_update).
{{ scd2_from_history('stg_activities', 'activity_id', 'activity_sk', ['activity_name']) }}
