// Typed choices: an enum class whose names are declared once, parsed at the edge (YAML, the
// wire, the command line) and compared as values everywhere else.
//
//   enum class Optimizer : uint8_t { kAdam, kSgd };
//   template <> struct EnumNames<Optimizer> {
//     static constexpr std::pair<Optimizer, const char*> kAll[] = {{Optimizer::kAdam, "adam"}, ...};
//   };
//
// Thread-safety: pure functions over constant tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace fedsmear::settings {

template <class E>
struct EnumNames;  // specialised beside each enum: static constexpr kAll[] = {{value, name}...}

template <class E, class = void>
struct IsNamedEnum : std::false_type {};
template <class E>
struct IsNamedEnum<E, std::void_t<decltype(EnumNames<E>::kAll)>> : std::true_type {};

// The name of `e` ("?" for a value outside the table, which a typed value never is).
template <class E>
const char* NameOf(E e) {
  for (const auto& [value, name] : EnumNames<E>::kAll) {
    if (value == e) return name;
  }
  return "?";
}

template <class E>
std::optional<E> ParseEnum(std::string_view text) {
  for (const auto& [value, name] : EnumNames<E>::kAll) {
    if (text == name) return value;
  }
  return std::nullopt;
}

// "a, b, c" for messages.
template <class E>
std::string EnumList(const char* separator = ", ") {
  std::string out;
  for (const auto& entry : EnumNames<E>::kAll) {
    out += (out.empty() ? "" : separator) + std::string(entry.second);
  }
  return out;
}

}  // namespace fedsmear::settings
