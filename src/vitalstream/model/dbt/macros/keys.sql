{#- A deterministic surrogate key: md5 over the columns' text (NULL-safe), so re-running the
    model gives every row the key it had (dbt_utils is not available offline). -#}
{% macro surrogate_key(columns) -%}
  md5(
  {%- for c in columns -%}
    coalesce(cast({{ c }} as {{ dbt.type_string() }}), '~null~'){% if not loop.last %} || '|' || {% endif %}
  {%- endfor -%}
  )
{%- endmacro %}

{#- Rows of `relation` that arrived since the newest `column` already in {{ this }}, less the
    look-back (see dbt_project.yml). Use only inside `if is_incremental()`. -#}
{% macro arrived_since(column, this_column=none) -%}
  {{ column }} >= (
    select coalesce(
      {{ dbt.dateadd('minute', -1 * var('lookback_minutes'), 'max(' ~ (this_column or column) ~ ')') }},
      {{ beginning_of_time() }})
    from {{ this }})
{%- endmacro %}

{% macro beginning_of_time() -%}
  cast('1900-01-01 00:00:00+00' as timestamp with time zone)
{%- endmacro %}
