{% macro export_orders(path) %}
  {% do run_query("copy " ~ ref("orders") ~ " to '" ~ path ~ "'") %}
{% endmacro %}

{% macro count_orders() %}
  {% set result = run_query("select count(*) from " ~ ref("orders")) %}
  {% do log("orders: " ~ result.columns[0].values()[0], info=true) %}
{% endmacro %}
