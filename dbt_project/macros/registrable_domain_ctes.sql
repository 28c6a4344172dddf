{#
    Company matching is by registrable domain: the public suffix of a domain plus one label (eng.bigco.com ->
    bigco.com, news.bbc.co.uk -> bbc.co.uk). The rules are the Public Suffix List, as the seed public_suffixes
    (generated from the publicsuffixlist package's bundled list: include/warehouse/public_suffixes.py), applied
    as that package applies them (https://publicsuffix.org/list/): the longest matching suffix wins; at equal
    length an exception rule (!city.kawasaki.jp: public part one label shorter) beats a wildcard (*.kawasaki.jp:
    one label longer, when the domain has one more) beats a plain rule; no match means the last label alone.

    Emits CTEs (no trailing comma) over `domains_cte`, which has a `domain` column (lower case, no trailing dot);
    the last, registrable_domains, has one row per distinct domain with registrable_domain: null when the domain
    is itself a public suffix. `max_labels` covers the deepest rule (tests/unit/test_public_suffixes.py).
#}
{% macro registrable_domain_ctes(domains_cte, max_labels=8) %}
domain_labels as (
    select distinct
        domain,
        length(domain) - length(replace(domain, '.', '')) + 1 as label_count
    from {{ domains_cte }}
    where domain is not null and domain != ''
),

domain_suffixes as (
    {%- for depth in range(1, max_labels + 1) %}
        select
            domain,
            label_count,
            {{ depth }} as depth,
            substr(regexp_substr('.' || domain, '{{ "([.][^.]+){" ~ depth ~ "}$" }}'), 2) as suffix
        from domain_labels
        where label_count >= {{ depth }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

suffix_rule_matches as (
    select
        domain_suffixes.domain,
        domain_suffixes.depth,
        case public_suffixes.rule_type when 'exception' then 1 when 'wildcard' then 2 else 3 end as rule_priority,
        case
            when public_suffixes.rule_type = 'exception' then domain_suffixes.depth - 1
            when public_suffixes.rule_type = 'wildcard' and domain_suffixes.label_count > domain_suffixes.depth
                then domain_suffixes.depth + 1
            else domain_suffixes.depth
        end as public_suffix_labels
    from domain_suffixes
    inner join {{ ref('public_suffixes') }} as public_suffixes on domain_suffixes.suffix = public_suffixes.suffix
),

prevailing_rules as (
    select
        domain,
        public_suffix_labels
    from suffix_rule_matches
    qualify row_number() over (partition by domain order by depth desc, rule_priority) = 1
),

registrable_domains as (
    select
        domain_labels.domain,
        registrable.suffix as registrable_domain
    from domain_labels
    left join prevailing_rules on domain_labels.domain = prevailing_rules.domain
    left join domain_suffixes as registrable
        on
            domain_labels.domain = registrable.domain
            and registrable.depth = coalesce(prevailing_rules.public_suffix_labels, 1) + 1
)
{% endmacro %}
