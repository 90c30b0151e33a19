{{ config(unique_key=['activity_id', 'last_update']) }}
-- Every version of every activity (seed 3), as it arrived.
select activity_id, activity_name, last_update, updated_at
from {{ source('warehouse', 'activities_history') }}
{% if is_incremental() %}
where {{ arrived_since('updated_at') }}
{% endif %}
