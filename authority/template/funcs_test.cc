// Every function issue 13 names, each with an input it accepts and one it
// refuses (or the edge where sprig quietly returns a zero value instead).
// Expected strings are what Go's text/template with sprig renders.
#include "authority/template/funcs.h"

#include <gtest/gtest.h>

#include <string>

#include "authority/template/testing/render.h"

namespace stepca {
namespace tmpl {
namespace {

using testing::ExecError;
using testing::Json;
using testing::ParseError;
using testing::Render;

// An execution error of kind kExec whose message ends with `tail`.
::testing::AssertionResult ExecFails(const std::string& text, const std::string& tail,
                                     const Value& data = Value()) {
  const Error e = ExecError(text, data);
  if (e.kind != ErrorKind::kExec)
    return ::testing::AssertionFailure() << "kind " << static_cast<int>(e.kind) << ": "
                                         << e.message;
  if (e.message.size() < tail.size() ||
      e.message.compare(e.message.size() - tail.size(), tail.size(), tail) != 0)
    return ::testing::AssertionFailure() << "message: " << e.message;
  if (e.line < 1) return ::testing::AssertionFailure() << "no line: " << e.message;
  return ::testing::AssertionSuccess();
}

const char kWantString[] = "wrong type for value; expected string; got int";
const char kWantMap[] = "wrong type for value; expected map[string]interface {}; got string";

TEST(TemplateFuncs, LookupKnowsEachNamedFunction) {
  for (const char* name :
       {"toJson", "fail", "hasPrefix", "hasSuffix", "contains", "lower", "upper", "trim",
        "split", "splitList", "join", "first", "last", "default", "empty", "coalesce", "list",
        "dict", "get", "set", "hasKey", "regexMatch", "b64enc", "b64dec", "replace", "quote",
        "printf", "index", "len", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not"}) {
    EXPECT_NE(LookupFunc(name), nullptr) << name;
  }
  EXPECT_EQ(LookupFunc("exec"), nullptr);
  EXPECT_EQ(LookupFunc(""), nullptr);
  // Names are case-sensitive, as Go's.
  EXPECT_EQ(LookupFunc("ToJson"), nullptr);
  EXPECT_EQ(ParseError("{{ env \"HOME\" }}").message, "template: t:1:3: function \"env\" not defined");
}

TEST(TemplateFuncs, ToJson) {
  EXPECT_EQ(Render("{{toJson .}}", Json(R"({"b": [1, 2.5, null, true], "a": "x"})")),
            R"({"a":"x","b":[1,2.5,null,true]})");
  // encoding/json escapes HTML characters.
  EXPECT_EQ(Render("{{toJson \"<a&b>\"}}"), R"("\u003ca\u0026b\u003e")");
  EXPECT_TRUE(ExecFails("{{toJson}}", "wrong number of args for toJson: want 1 got 0"));
  EXPECT_TRUE(ExecFails("{{toJson 1 2}}", "wrong number of args for toJson: want 1 got 2"));
}

TEST(TemplateFuncs, Fail) {
  const Error e = ExecError("x\n  {{ fail \"no\" }}");
  EXPECT_EQ(e.kind, ErrorKind::kFail);
  EXPECT_EQ(e.fail_message, "no");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 5);
  // Not reached: no failure.
  EXPECT_EQ(Render("{{if false}}{{fail \"no\"}}{{end}}ok"), "ok");
  EXPECT_TRUE(ExecFails("{{fail 1}}", kWantString));
}

TEST(TemplateFuncs, HasPrefixHasSuffixContains) {
  EXPECT_EQ(Render("{{hasPrefix \"ab\" \"abc\"}} {{hasPrefix \"b\" \"abc\"}} {{hasPrefix \"\" \"\"}}"),
            "true false true");
  EXPECT_EQ(Render("{{hasPrefix \"abcd\" \"abc\"}}"), "false");
  EXPECT_EQ(Render("{{hasSuffix \".com\" \"a.com\"}} {{hasSuffix \"a.com\" \".com\"}}"),
            "true false");
  EXPECT_EQ(Render("{{contains \"b\" \"abc\"}} {{contains \"x\" \"abc\"}}"), "true false");
  EXPECT_TRUE(ExecFails("{{hasPrefix 1 \"a\"}}", kWantString));
  EXPECT_TRUE(ExecFails("{{hasSuffix \"a\" 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{contains \"a\" 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{contains \"a\" .x}}", "invalid value; expected string", Json("{}")));
}

TEST(TemplateFuncs, LowerUpperTrim) {
  EXPECT_EQ(Render("{{lower \"AbC.Example\"}} {{upper \"abc-1\"}}"), "abc.example ABC-1");
  EXPECT_EQ(Render("[{{trim \" \\t a b \\n\"}}]"), "[a b]");
  // Unicode space (U+3000) is trimmed as strings.TrimSpace does.
  EXPECT_EQ(Render("[{{trim \"\u3000x\u3000\"}}]"), "[x]");
  EXPECT_TRUE(ExecFails("{{lower 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{upper 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{trim 1}}", kWantString));
}

TEST(TemplateFuncs, SplitAndSplitList) {
  // split gives a map with keys _0, _1, ... (sprig).
  EXPECT_EQ(Render("{{$p := split \"@\" \"user@example.com\"}}{{$p._0}} {{$p._1}}"),
            "user example.com");
  EXPECT_EQ(Render("{{split \",\" \"a,b\"}}"), "map[_0:a _1:b]");
  EXPECT_EQ(Render("{{splitList \",\" \"a,b,,c\"}}"), "[a b  c]");
  EXPECT_EQ(Render("{{len (splitList \",\" \"\")}}"), "1");
  EXPECT_EQ(Render("{{splitList \"\" \"ab\"}}"), "[a b]");
  EXPECT_TRUE(ExecFails("{{split 1 \"a\"}}", kWantString));
  EXPECT_TRUE(ExecFails("{{splitList \",\" 1}}", kWantString));
}

TEST(TemplateFuncs, Join) {
  EXPECT_EQ(Render("{{join \", \" (list \"a\" 1 true)}}"), "a, 1, true");
  EXPECT_EQ(Render("{{join \"-\" .}}", Json(R"(["x", null, "y"])")), "x-y");
  EXPECT_EQ(Render("{{join \"-\" .}}", Json("[]")), "");
  EXPECT_TRUE(ExecFails("{{join 1 (list \"a\")}}", kWantString));
}

TEST(TemplateFuncs, FirstAndLast) {
  const Value d = Json(R"({"l": ["a", "b", "c"], "e": []})");
  EXPECT_EQ(Render("{{first .l}} {{last .l}}", d), "a c");
  EXPECT_EQ(Render("{{first .e}}", d), "<no value>");
  EXPECT_TRUE(ExecFails("{{first \"abc\"}}", "error calling first: Cannot find first on type string"));
  EXPECT_TRUE(ExecFails("{{last 3}}", "error calling last: Cannot find last on type int"));
}

TEST(TemplateFuncs, DefaultEmptyCoalesce) {
  const Value d = Json(R"({"s": "set", "e": "", "z": 0, "l": []})");
  EXPECT_EQ(Render("{{default \"d\" .s}} {{default \"d\" .e}} {{default \"d\" .missing}}", d),
            "set d d");
  EXPECT_EQ(Render("{{.z | default 7}} {{.l | default \"none\"}}", d), "7 none");
  EXPECT_EQ(Render("{{empty .e}} {{empty .z}} {{empty .l}} {{empty .s}} {{empty .missing}}", d),
            "true true true false true");
  EXPECT_EQ(Render("{{coalesce .e .z .s \"later\"}}", d), "set");
  EXPECT_EQ(Render("{{coalesce .e .z}}", d), "<no value>");
  EXPECT_TRUE(ExecFails("{{default}}", "wrong number of args for default: want at least 1 got 0"));
  EXPECT_TRUE(ExecFails("{{empty}}", "wrong number of args for empty: want 1 got 0"));
}

TEST(TemplateFuncs, ListAndDict) {
  EXPECT_EQ(Render("{{list 1 \"a\" nil}} {{len (list)}}"), "[1 a <nil>] 0");
  EXPECT_EQ(Render("{{toJson (dict \"b\" 2 \"a\" (list 1))}}"), R"({"a":[1],"b":2})");
  // An odd argument count gives the last key an empty string.
  EXPECT_EQ(Render("{{toJson (dict \"k\")}}"), R"({"k":""})");
  // Keys are converted to strings.
  EXPECT_EQ(Render("{{toJson (dict 1 2)}}"), R"({"1":2})");
  EXPECT_TRUE(ExecFails("{{(list 1 2) 3}}", "can't give argument to non-function (list 1 2)"));
  EXPECT_EQ(Render("{{(dict).a.b}}"), "<no value>");
  // A key that is there but null cannot be followed, as in Go.
  EXPECT_TRUE(ExecFails("{{(dict \"a\" nil).a.b}}", "nil pointer evaluating interface {}.b"));
}

TEST(TemplateFuncs, GetSetHasKey) {
  EXPECT_EQ(Render("{{get . \"a\"}}[{{get . \"nope\"}}]", Json(R"({"a": 1})")), "1[]");
  EXPECT_EQ(Render("{{$m := dict}}{{$_ := set $m \"k\" \"v\"}}{{$m.k}} {{hasKey $m \"k\"}} "
                   "{{hasKey $m \"x\"}}"),
            "v true false");
  // set returns the map, so it chains.
  EXPECT_EQ(Render("{{toJson (set (dict) \"a\" 1)}}"), R"({"a":1})");
  EXPECT_TRUE(ExecFails("{{get \"str\" \"k\"}}", kWantMap));
  EXPECT_TRUE(ExecFails("{{set \"str\" \"k\" 1}}", kWantMap));
  EXPECT_TRUE(ExecFails("{{hasKey \"str\" \"k\"}}", kWantMap));
  EXPECT_TRUE(ExecFails("{{hasKey (dict) 1}}", kWantString));
}

TEST(TemplateFuncs, RegexMatch) {
  EXPECT_EQ(Render("{{regexMatch \"^[a-z]+\\\\.example\\\\.com$\" \"db.example.com\"}}"), "true");
  EXPECT_EQ(Render("{{regexMatch \"^[a-z]+$\" \"DB\"}} {{regexMatch \"(?i)^[a-z]+$\" \"DB\"}}"),
            "false true");
  // sprig's regexMatch treats a pattern that does not compile as no match.
  EXPECT_EQ(Render("{{regexMatch \"(\" \"(\"}}"), "false");
  EXPECT_TRUE(ExecFails("{{regexMatch \"a\" 1}}", kWantString));
}

TEST(TemplateFuncs, Base64) {
  EXPECT_EQ(Render("{{b64enc \"hello\"}} {{b64enc \"\"}} {{b64enc \"ab\"}}"), "aGVsbG8=  YWI=");
  EXPECT_EQ(Render("{{b64dec \"aGVsbG8=\"}}"), "hello");
  // sprig returns the decoder's error text rather than failing.
  EXPECT_EQ(Render("{{b64dec \"a!==\"}}"), "illegal base64 data at input byte 1");
  EXPECT_EQ(Render("{{b64dec \"aGVsbG8\"}}"), "illegal base64 data at input byte 7");
  EXPECT_TRUE(ExecFails("{{b64enc 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{b64dec 1}}", kWantString));
}

TEST(TemplateFuncs, ReplaceAndQuote) {
  EXPECT_EQ(Render("{{replace \".\" \"-\" \"a.b.c\"}}"), "a-b-c");
  EXPECT_EQ(Render("{{\"a.b\" | replace \".\" \"\"}}"), "ab");
  EXPECT_EQ(Render("{{quote \"a\\\"b\" 1 nil}}"), R"("a\"b" "1")");
  EXPECT_EQ(Render("{{quote \"\\n\"}}"), R"("\n")");
  EXPECT_TRUE(ExecFails("{{replace 1 \"b\" \"c\"}}", kWantString));
  EXPECT_TRUE(ExecFails("{{replace \"a\" \"b\"}}", "wrong number of args for replace: want 3 got 2"));
}

TEST(TemplateFuncs, Printf) {
  EXPECT_EQ(Render("{{printf \"%s=%d %q %v %x %5.2f|%-3s|\" \"k\" 42 \"q\" (list 1) 255 3.14159 \"a\"}}"),
            "k=42 \"q\" [1] ff  3.14|a  |");
  // fmt's own complaints are output, not errors.
  EXPECT_EQ(Render("{{printf \"%d\" \"a\"}}"), "%!d(string=a)");
  EXPECT_EQ(Render("{{printf \"%s %s\" \"a\"}}"), "a %!s(MISSING)");
  EXPECT_EQ(Render("{{printf \"%s\" \"a\" \"b\"}}"), "a%!(EXTRA string=b)");
  // A NUL verb is a bad verb, not a float format (found by fuzz_template).
  static const char kNulVerb[] = "{{printf \"%\0\" 1.5}}";
  EXPECT_EQ(Render(std::string(kNulVerb, sizeof kNulVerb - 1)),
            "%!" + std::string(1, '\0') + "(float64=1.5)");
  EXPECT_TRUE(ExecFails("{{printf 1}}", kWantString));
  EXPECT_TRUE(ExecFails("{{printf}}", "wrong number of args for printf: want at least 1 got 0"));
}

TEST(TemplateFuncs, IndexAndLen) {
  const Value d = Json(R"({"l": [[1, 2], [3, 4]], "m": {"k": {"j": "v"}}, "s": "abc"})");
  EXPECT_EQ(Render("{{index .l 1 0}} {{index .m \"k\" \"j\"}} {{index .s 0}} {{index .m \"no\"}}", d),
            "3 v 97 <no value>");
  EXPECT_EQ(Render("{{len .l}} {{len .m}} {{len .s}} {{len \"\"}}", d), "2 1 3 0");
  EXPECT_TRUE(ExecFails("{{index .l 5}}", "error calling index: index out of range: 5", d));
  EXPECT_TRUE(ExecFails("{{index .l \"a\"}}",
                        "error calling index: cannot index slice/array with type string", d));
  EXPECT_TRUE(ExecFails("{{index 3 0}}", "error calling index: can't index item of type int"));
  EXPECT_TRUE(ExecFails("{{len 3}}", "error calling len: len of type int"));
}

TEST(TemplateFuncs, Comparisons) {
  EXPECT_EQ(Render("{{eq 1 1}} {{eq \"a\" \"b\"}} {{eq 2 1 3 2}} {{ne 1 2}} {{ne \"a\" \"a\"}}"),
            "true false true true false");
  EXPECT_EQ(Render("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 3 2}} {{lt \"a\" \"b\"}} {{lt 1.5 2.5}}"),
            "true true false true true true");
  EXPECT_EQ(Render("{{eq .x nil}}", Json(R"({"x": null})")), "true");
  EXPECT_TRUE(ExecFails("{{lt 1 \"a\"}}", "error calling lt: incompatible types for comparison"));
  EXPECT_TRUE(ExecFails("{{eq \"a\" 1}}", "error calling eq: incompatible types for comparison"));
  EXPECT_TRUE(ExecFails("{{eq (list) (list)}}",
                        "error calling eq: non-comparable type []interface {}"));
  EXPECT_TRUE(ExecFails("{{gt true false}}", "error calling gt: invalid type for comparison"));
  EXPECT_TRUE(ExecFails("{{eq 1}}", "error calling eq: missing argument for comparison"));
}

TEST(TemplateFuncs, AndOrNot) {
  EXPECT_EQ(Render("{{and 1 \"x\"}} {{and 1 0 2}} {{or 0 \"\" \"y\"}} {{or 0 \"\"}} {{not 0}} {{not 1}}"),
            "x 0 y  true false");
  // and/or stop at the deciding argument: fail is never called.
  EXPECT_EQ(Render("{{and false (fail \"x\")}} {{or true (fail \"x\")}}"), "false true");
  EXPECT_EQ(ExecError("{{and true (fail \"x\")}}").kind, ErrorKind::kFail);
  EXPECT_TRUE(ExecFails("{{not 1 2}}", "wrong number of args for not: want 1 got 2"));
  EXPECT_TRUE(ExecFails("{{and}}", "wrong number of args for and: want at least 1 got 0"));
}

}  // namespace
}  // namespace tmpl
}  // namespace stepca
