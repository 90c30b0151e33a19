{{ config(unique_key=['device_id', 'updated_at']) }}
-- Every seed-4 profile (which user wears a device, their age and gender) as it arrived.
select device_id, user_id, age, gender, updated_at
from {{ source('warehouse', 'user_profiles_history') }}
{% if is_incremental() %}
where {{ arrived_since('updated_at') }}
{% endif %}
