{#
    True for the default owner (var default_owner_username, e.g. a "Sales Ops Queue" user): the owner of last
    resort parks records, it never counts as an assignment to a seller. Pass the alias of a staged users
    relation. Queues (OwnerId 00G...) are not users at all, so a join to the users never finds them.
#}
{% macro is_placeholder_owner(users_alias) -%}
    {{ users_alias }}.username = lower('{{ var("default_owner_username") }}')
{%- endmacro %}
