{{ config(unique_key=['user_id', 'last_update']) }}
-- Every version of every user (seed 3), as it arrived; new versions only on incremental runs.
select
  userid as user_id, fname, lname, dob, sex, height, weight, blood_type, race,
  origin_country_code, origin_country_name, address, address_country_code,
  address_country_name, last_update, updated_at
from {{ source('warehouse', 'users_history') }}
{% if is_incremental() %}
where {{ arrived_since('updated_at') }}
{% endif %}
