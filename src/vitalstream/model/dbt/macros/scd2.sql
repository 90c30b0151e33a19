{#- A type-2 dimension from every version of a record (a staging model keyed by id +
    last_update). Versions follow each other by `last_update`: each is valid from its
    last_update until the next one's (valid_to NULL: the current version). The first version
    is valid from the beginning of time, so an event older than the first version we know still
    finds its dimension row. Built from the full history on each run: exact even when the
    model runs rarely or the topic was compacted, and the keys are deterministic. -#}
{% macro scd2_from_history(history, natural_key, surrogate, columns) -%}
with versions as (
  select
    {{ natural_key }}, {{ columns | join(', ') }}, last_update, updated_at,
    row_number() over (partition by {{ natural_key }} order by last_update) as version,
    lead(last_update) over (partition by {{ natural_key }} order by last_update) as next_update
  from {{ ref(history) }}
)
select
  {{ surrogate_key([natural_key, 'last_update']) }} as {{ surrogate }},
  {{ natural_key }},
  {{ columns | join(', ') }},
  last_update,
  updated_at,
  version,
  case when version = 1 then {{ beginning_of_time() }} else last_update end as valid_from,
  next_update as valid_to,
  next_update is null as is_current
from versions
{%- endmacro %}
