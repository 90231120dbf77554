{{ config(post_hook=(["delete from {{ this }} where 1=1"] if var("wipe_orders", false) else [])) }}
select id, customer, amount, updated_at::date as updated_at from {{ ref("raw_orders") }}
