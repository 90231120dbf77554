{{ config(materialized="incremental", unique_key="id") }}
select id, customer, amount, updated_at from {{ ref("orders") }}
{% if is_incremental() %}
where updated_at >= (select coalesce(max(updated_at), '1900-01-01') from {{ this }})
{% endif %}
