-- Type-2 user dimension (seed 3): one row per version, user_sk per (user_id, last_update).
{{ scd2_from_history('stg_users', 'user_id', 'user_sk', [
    'fname', 'lname', 'dob', 'sex', 'height', 'weight', 'blood_type', 'race',
    'origin_country_code', 'origin_country_name', 'address', 'address_country_code',
    'address_country_name']) }}
