{#- A type-2 dimension keyed by `natural_key` is continuous: exactly one current row per key
    (valid_to NULL, is_current true), valid_from < valid_to, and each version ends exactly
    where the next one starts (no gap, no overlap). Fails with the offending rows. -#}
{% test scd_continuity(model, natural_key) %}
with ordered as (
  select {{ natural_key }} as k, valid_from, valid_to, is_current,
         lead(valid_from) over (partition by {{ natural_key }} order by valid_from) as next_from
  from {{ model }}
), problems as (
  select k, 'not one current row' as problem from ordered
  group by k having sum(case when valid_to is null and is_current then 1 else 0 end) <> 1
  union all
  select k, 'is_current disagrees with valid_to' from ordered where is_current <> (valid_to is null)
  union all
  select k, 'empty or negative validity' from ordered where valid_to is not null and valid_to <= valid_from
  union all
  select k, 'gap or overlap with the next version' from ordered
  where next_from is not null and (valid_to is null or valid_to <> next_from)
)
select * from problems
{% endtest %}
