#pragma once
// Building blocks of the OpenAPI document's component schemas (JSON Schema 2020-12), shared by
// the files that declare schemas (rest_views.cpp, rest_deploy.cpp).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace certfleet::app::rest::schema {
using nlohmann::json;

// Schema helpers: a nullable type, an array of a component.
inline json nullable(std::string_view type)
{
    return {{"type", json::array({type, "null"})}};
}

inline json ref(std::string_view name)
{
    return {{"$ref", "#/components/schemas/" + std::string(name)}};
}

inline json array_of(json items)
{
    return {{"type", "array"}, {"items", std::move(items)}};
}

inline json object_schema(json properties, json required)
{
    return {
        {"type", "object"},
        {"properties", std::move(properties)},
        {"required", std::move(required)}};
}

inline json page_schema(std::string_view item)
{
    return object_schema(
        {{"items", array_of(ref(item))}, {"next_cursor", nullable("string")}},
        json::array({"items", "next_cursor"})
    );
}

inline const json string_type{{"type", "string"}};
inline const json integer_type{{"type", "integer"}};
inline const json boolean_type{{"type", "boolean"}};
inline const json string_list = array_of(string_type);

} // namespace certfleet::app::rest::schema
