{{ config(unique_key=['patient_id', 'updated_at']) }}
-- Every seed-0 patient metadata record as it arrived.
select patient_id, age, gender, medical_history, emergency_contact, blood_type, allergies,
       last_checkup_date, device_id, updated_at
from {{ source('warehouse', 'patient_metadata_history') }}
{% if is_incremental() %}
where {{ arrived_since('updated_at') }}
{% endif %}
