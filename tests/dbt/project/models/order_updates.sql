{{ config(
    materialized="incremental",
    unique_key="id",
    incremental_strategy="delete+insert",
    contract={"enforced": true},
    on_schema_change="fail",
    post_hook=(["delete from {{ this }} where id = 1"] if var("trim_updates", false) else []),
) }}
-- Keyed (the contract's primary key), so the rows its delete+insert and its hook delete have
-- a pre-image that can be put back.
select id, customer, amount, updated_at from {{ ref("orders") }}
{% if is_incremental() %}
where updated_at >= (select coalesce(max(updated_at), '1900-01-01') from {{ this }})
{% endif %}
