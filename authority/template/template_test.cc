// The language: actions, pipelines, variables, control structures,
// define/template/block, trimming, comments, errors and limits. Expected
// strings are what Go's text/template (with sprig) renders.
#include "authority/template/template.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "authority/template/testing/render.h"

namespace stepca {
namespace tmpl {
namespace {

using testing::ExecError;
using testing::Json;
using testing::ParseError;
using testing::Render;

TEST(TemplateText, PlainTextIsCopied) {
  EXPECT_EQ(Render("hello, world\n"), "hello, world\n");
  EXPECT_EQ(Render(""), "");
  EXPECT_EQ(Render("a } b { c"), "a } b { c");
}

TEST(TemplateFields, FieldsAndChains) {
  const Value d = Json(R"({"A": "x", "B": {"C": {"D": 7}}, "N": null})");
  EXPECT_EQ(Render("{{.A}}", d), "x");
  EXPECT_EQ(Render("{{ .B.C.D }}", d), "7");
  EXPECT_EQ(Render("{{.B.C}}", d), "map[D:7]");
  EXPECT_EQ(Render("{{.}}", Json(R"([1, "a", null, true, 2.5])")), "[1 a <nil> true 2.5]");
}

TEST(TemplateFields, MissingKeysPrintNoValue) {
  const Value d = Json(R"({"A": {"B": 1}, "N": null})");
  EXPECT_EQ(Render("{{.Missing}}", d), "<no value>");
  EXPECT_EQ(Render("{{.Missing.Deeper}}", d), "<no value>");
  EXPECT_EQ(Render("{{.N}}", d), "<no value>");
  // As a function argument a missing value is nil.
  EXPECT_EQ(Render("{{print .Missing}}", d), "<nil>");
  EXPECT_EQ(Render("{{toJson .Missing}}", d), "null");
}

TEST(TemplateFields, FieldOfNonMapIsAnError) {
  const Error e = ExecError("{{.A.B}}", Json(R"({"A": "str"})"));
  EXPECT_EQ(e.kind, ErrorKind::kExec);
  EXPECT_EQ(e.message,
            "template: t:1:2: executing \"t\" at <.A.B>: can't evaluate field B in type string");
}

TEST(TemplateLiterals, Constants) {
  EXPECT_EQ(Render("{{1}} {{-2}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}}"),
            "1 -2 31 15 15 5 1000");
  EXPECT_EQ(Render("{{1.5}} {{1e3}} {{.25}} {{1e-7}} {{1e21}}"), "1.5 1000 0.25 1e-07 1e+21");
  EXPECT_EQ(Render("{{'a'}} {{'\\n'}}"), "97 10");
  EXPECT_EQ(Render("{{true}} {{false}}"), "true false");
  EXPECT_EQ(Render(R"({{"a\tb\u00e9\x41"}})"), "a\tb\xc3\xa9" "A");
  EXPECT_EQ(Render("{{`raw\\n`}}"), "raw\\n");
  EXPECT_EQ(Render("{{print nil}}"), "<nil>");
}

TEST(TemplatePipelines, PipesPassTheLastArgument) {
  const Value d = Json(R"({"s": "Hello"})");
  EXPECT_EQ(Render("{{.s | lower}}", d), "hello");
  EXPECT_EQ(Render("{{.s | printf \"%s!\" | upper}}", d), "HELLO!");
  EXPECT_EQ(Render("{{\"x\" | printf \"%s-%s\" \"a\"}}"), "a-x");
  EXPECT_EQ(Render("{{(print \"a\" \"b\") | len}}"), "2");
  EXPECT_EQ(Render("{{ (dict \"k\" \"v\").k }}"), "v");
}

TEST(TemplateVariables, DeclareAssignAndScope) {
  const Value d = Json(R"({"a": 1, "list": [1, 2]})");
  EXPECT_EQ(Render("{{$x := .a}}{{$x}}", d), "1");
  EXPECT_EQ(Render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
  EXPECT_EQ(Render("{{$x := 1}}{{if true}}{{$x := 3}}{{$x}}{{end}}{{$x}}"), "31");
  EXPECT_EQ(Render("{{with .a}}{{$.list}}{{end}}", d), "[1 2]");
  EXPECT_EQ(Render("{{$m := dict \"k\" (dict \"in\" 5)}}{{$m.k.in}}"), "5");
  // A declaration prints nothing.
  EXPECT_EQ(Render("[{{$x := 5}}]"), "[]");
}

TEST(TemplateVariables, UndefinedVariableIsAParseError) {
  const Error e = ParseError("{{if true}}{{$x := 1}}{{end}}{{$x}}");
  EXPECT_EQ(e.kind, ErrorKind::kParse);
  EXPECT_EQ(e.message, "template: t:1:31: undefined variable \"$x\"");
  EXPECT_EQ(ParseError("{{$y = 1}}").message, "template: t:1:2: undefined variable \"$y\"");
}

TEST(TemplateIf, Branches) {
  const Value d = Json(R"({"t": true, "z": 0, "e": "", "l": [], "m": {}, "s": "x"})");
  EXPECT_EQ(Render("{{if .t}}yes{{end}}", d), "yes");
  EXPECT_EQ(Render("{{if .z}}yes{{else}}no{{end}}", d), "no");
  EXPECT_EQ(Render("{{if .e}}1{{else if .l}}2{{else if .m}}3{{else if .s}}4{{end}}", d), "4");
  EXPECT_EQ(Render("{{if .missing}}1{{else if .z}}2{{else}}3{{end}}", d), "3");
  EXPECT_EQ(Render("{{if and .t .s}}a{{end}}{{if or .z .e}}b{{else}}c{{end}}", d), "ac");
  EXPECT_EQ(Render("{{if not .z}}n{{end}}", d), "n");
}

TEST(TemplateWith, RebindsDot) {
  const Value d = Json(R"({"a": {"b": "B"}, "e": ""})");
  EXPECT_EQ(Render("{{with .a}}{{.b}}{{end}}", d), "B");
  EXPECT_EQ(Render("{{with .e}}x{{else}}empty:{{.a.b}}{{end}}", d), "empty:B");
  EXPECT_EQ(Render("{{with $v := .a.b}}{{$v}}{{.}}{{end}}", d), "BB");
  EXPECT_EQ(Render("{{with .e}}1{{else with .a}}{{.b}}{{end}}", d), "B");
}

TEST(TemplateRange, ListsMapsAndElse) {
  const Value d = Json(R"({"l": ["a", "b", "c"], "m": {"z": 1, "a": 2}, "e": []})");
  EXPECT_EQ(Render("{{range .l}}{{.}},{{end}}", d), "a,b,c,");
  EXPECT_EQ(Render("{{range $i, $v := .l}}{{$i}}={{$v}} {{end}}", d), "0=a 1=b 2=c ");
  EXPECT_EQ(Render("{{range $v := .l}}{{$v}}{{end}}", d), "abc");
  // Maps are visited in key order.
  EXPECT_EQ(Render("{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}", d), "a:2 z:1 ");
  EXPECT_EQ(Render("{{range .e}}x{{else}}none{{end}}", d), "none");
  EXPECT_EQ(Render("{{range .missing}}x{{else}}none{{end}}", d), "none");
  EXPECT_EQ(Render("{{range .l}}{{$.m.a}}{{end}}", d), "222");
}

TEST(TemplateRange, BreakAndContinue) {
  const Value d = Json(R"([1, 2, 3, 4, 5])");
  EXPECT_EQ(Render("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", d), "12");
  EXPECT_EQ(Render("{{range .}}{{if eq . 3}}{{continue}}{{end}}{{.}}{{end}}", d), "1245");
  EXPECT_EQ(ParseError("{{break}}").message, "template: t:1:2: {{break}} outside {{range}}");
}

TEST(TemplateRange, OverAScalarIsAnError) {
  const Error e = ExecError("{{range .}}{{end}}", Json("\"str\""));
  EXPECT_EQ(e.kind, ErrorKind::kExec);
  EXPECT_NE(e.message.find("range can't iterate over str"), std::string::npos) << e.message;
}

TEST(TemplateDefine, DefineTemplateAndBlock) {
  EXPECT_EQ(Render("{{define \"T\"}}<{{.}}>{{end}}{{template \"T\" \"x\"}}{{template \"T\"}}"),
            "<x><<no value>>");
  EXPECT_EQ(Render("{{block \"B\" .}}[{{.}}]{{end}}", Json("5")), "[5]");
  // A later empty definition does not replace a body.
  EXPECT_EQ(Render("{{define \"T\"}}a{{end}}{{define \"T\"}}{{end}}{{template \"T\"}}"), "a");
  EXPECT_EQ(ParseError("{{define \"T\"}}a{{end}}{{define \"T\"}}b{{end}}").message,
            "template: t:1:24: template: multiple definition of template \"T\"");
  // Variables do not cross into a template: $ is its own dot.
  EXPECT_EQ(Render("{{define \"T\"}}{{$}}{{end}}{{template \"T\" 3}}", Json("1")), "3");
  const Error e = ExecError("{{template \"nope\"}}");
  EXPECT_EQ(e.message, "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: "
                       "template \"nope\" not defined");
}

TEST(TemplateTrim, MarkersTrimAdjacentSpace) {
  EXPECT_EQ(Render("a  \n {{- \"b\" -}} \n\t c"), "abc");
  EXPECT_EQ(Render("{{- 3 }}"), "3");
  EXPECT_EQ(Render("x {{-3}} y"), "x -3 y");
  EXPECT_EQ(Render("[\n  {{- range .}}\n  {{.}},\n  {{- end}}\n]", Json("[1,2]")),
            "[\n  1,\n  2,\n]");
}

TEST(TemplateComments, AreDropped) {
  EXPECT_EQ(Render("a{{/* a comment */}}b"), "ab");
  EXPECT_EQ(Render("a {{- /* multi\nline */ -}} b"), "ab");
  EXPECT_EQ(ParseError("{{/* x */ .A}}").message,
            "template: t:1:0: comment ends before closing delimiter");
  EXPECT_EQ(ParseError("{{/* x ").message, "template: t:1:0: unclosed comment");
}

TEST(TemplateWhitespace, NewlinesInsideActions) {
  EXPECT_EQ(Render("{{ print\n  1\n  2 }}"), "1 2");
}

// step-ca's default leaf template, with typeIs over the key type name the
// caller attaches (Value::WithType("*rsa.PublicKey")).
constexpr const char* kLeafTemplate =
    R"({
	"subject": {{ toJson .Subject }},
	"sans": {{ toJson .SANs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
	"keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
	"keyUsage": ["digitalSignature"],
{{- end }}
	"extKeyUsage": ["serverAuth", "clientAuth"]
})";

Value LeafData(const char* key_type) {
  Value::Map insecure_cr;
  insecure_cr["PublicKey"] = Value::String("opaque").WithType(key_type);
  Value::Map insecure;
  insecure["CR"] = Value::MakeMap(insecure_cr);
  Value data = Json(R"({"Subject": {"commonName": "a.example.com"},
      "SANs": [{"type": "dns", "value": "a.example.com"}]})");
  Value::Map m = data.as_map();
  m["Insecure"] = Value::MakeMap(insecure);
  return Value::MakeMap(m);
}

TEST(TemplateStepCa, DefaultLeafTemplate) {
  EXPECT_EQ(Render(kLeafTemplate, LeafData("*rsa.PublicKey")),
            "{\n\t\"subject\": {\"commonName\":\"a.example.com\"},\n"
            "\t\"sans\": [{\"type\":\"dns\",\"value\":\"a.example.com\"}],\n"
            "\t\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n"
            "\t\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n}");
  EXPECT_EQ(Render(kLeafTemplate, LeafData("*ecdsa.PublicKey")),
            "{\n\t\"subject\": {\"commonName\":\"a.example.com\"},\n"
            "\t\"sans\": [{\"type\":\"dns\",\"value\":\"a.example.com\"}],\n"
            "\t\"keyUsage\": [\"digitalSignature\"],\n"
            "\t\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n}");
}

TEST(TemplateStepCa, FailOnACondition) {
  const char* text =
      "{{- if not (hasSuffix \".internal\" .Subject.CommonName) }}\n"
      "  {{- fail \"common name must end in .internal\" }}\n"
      "{{- end -}}\n"
      "{\"subject\": {{ toJson .Subject }}}";
  EXPECT_EQ(Render(text, Json(R"({"Subject": {"CommonName": "db.internal"}})")),
            "{\"subject\": {\"CommonName\":\"db.internal\"}}");
  const Error e = ExecError(text, Json(R"({"Subject": {"CommonName": "evil.com"}})"));
  EXPECT_EQ(e.kind, ErrorKind::kFail);
  EXPECT_EQ(e.fail_message, "common name must end in .internal");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 6);
  EXPECT_EQ(e.message,
            "template: t:2:6: executing \"t\" at <fail \"common name must end in .internal\">: "
            "error calling fail: common name must end in .internal");
}

TEST(TemplateStepCa, CustomSansFromTemplateData) {
  const char* text = R"({"sans": [{{ range $i, $s := .SANs }}{{ if $i }}, {{ end }})"
                     R"({"type": "dns", "value": {{ toJson (lower $s) }}}{{ end }}]})";
  EXPECT_EQ(Render(text, Json(R"({"SANs": ["A.example.com", "b.example.com"]})")),
            R"({"sans": [{"type": "dns", "value": "a.example.com"}, )"
            R"({"type": "dns", "value": "b.example.com"}]})");
}

TEST(TemplateErrors, ParseErrorsCarryLineAndColumn) {
  Error e = ParseError("line one\n{{ if .A }}\n  {{ .B | nosuch }}\n{{ end }}");
  EXPECT_EQ(e.kind, ErrorKind::kParse);
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.column, 10);
  EXPECT_EQ(e.message, "template: t:3:10: function \"nosuch\" not defined");

  EXPECT_EQ(ParseError("ab\n{{ .A ").message, "template: t:2:6: unclosed action");
  EXPECT_EQ(ParseError("{{ .A }").message, "template: t:1:6: unexpected \"}\" in operand");
  EXPECT_EQ(ParseError("{{if .A}}x").message, "template: t:1:10: unexpected EOF");
  EXPECT_EQ(ParseError("{{end}}").message, "template: t:1:2: unexpected {{end}}");
  EXPECT_EQ(ParseError("{{else}}").message, "template: t:1:2: unexpected {{else}}");
  EXPECT_EQ(ParseError("{{}}").message, "template: t:1:2: missing value for command");
  EXPECT_EQ(ParseError("{{\"abc}}").message, "template: t:1:2: unterminated quoted string");
  EXPECT_EQ(ParseError("{{(1}}").message, "template: t:1:4: unclosed left paren");
  EXPECT_EQ(ParseError("{{1 | 2}}").message,
            "template: t:1:6: non executable command in pipeline stage 2");
  EXPECT_EQ(ParseError("{{3x}}").message, "template: t:1:2: bad number syntax: \"3x\"");
  // Go's parser accepts a trailing pipe with nothing after it.
  EXPECT_EQ(Render("{{.A | }}", Json(R"({"A": "a"})")), "a");
  EXPECT_EQ(ParseError("{{range $a, $b, $c := .}}{{end}}").kind, ErrorKind::kParse);
}

TEST(TemplateErrors, ExecutionErrorsNameTheTemplateAndNode) {
  const Error e = ExecError("ok\n{{define \"inner\"}}\n {{len 3}}{{end}}{{template \"inner\"}}");
  EXPECT_EQ(e.kind, ErrorKind::kExec);
  EXPECT_EQ(e.message,
            "template: t:3:3: executing \"inner\" at <len 3>: error calling len: len of type int");
  EXPECT_EQ(ExecError("{{nil}}").message,
            "template: t:1:2: executing \"t\" at <nil>: nil is not a command");
  EXPECT_EQ(ExecError("{{1 2}}").message,
            "template: t:1:2: executing \"t\" at <1 2>: can't give argument to non-function 1");
  EXPECT_EQ(ExecError("{{not}}").message,
            "template: t:1:2: executing \"t\" at <not>: wrong number of args for not: "
            "want 1 got 0");
}

TEST(TemplateLimits, HugeRangeIsBounded) {
  Limits l;
  l.max_steps = 10000;
  // 100 x 100 x 100 iterations: a million steps, refused at 10000.
  const char* text =
      "{{$l := list 0 1 2 3 4 5 6 7 8 9}}"
      "{{range $l}}{{range $l}}{{range $l}}{{range $l}}{{range $l}}x{{end}}{{end}}{{end}}"
      "{{end}}{{end}}";
  const Error e = ExecError(text, Value(), l);
  EXPECT_EQ(e.kind, ErrorKind::kLimit);
  EXPECT_NE(e.message.find("exceeds 10000 steps"), std::string::npos) << e.message;
  // The same template is fine with room for it.
  l.max_steps = 1000000;
  EXPECT_EQ(Render(text, Value(), l).size(), 100000u);
}

TEST(TemplateLimits, OutputIsBounded) {
  Limits l;
  l.max_output_bytes = 1000;
  Value::List list(200, Value::Int(1));
  const Error e2 = ExecError("{{range .}}0123456789{{end}}", Value::MakeList(list), l);
  EXPECT_EQ(e2.kind, ErrorKind::kLimit);
  EXPECT_NE(e2.message.find("output exceeds 1000 bytes"), std::string::npos) << e2.message;
  // A value that grows by replacing is refused before it is built.
  const Error e3 = ExecError(
      "{{$s := \"aaaaaaaaaa\"}}{{range list 1 2 3 4 5}}"
      "{{$s = replace \"a\" \"aaaaaaaaaa\" $s}}{{end}}",
      Value(), l);
  EXPECT_EQ(e3.kind, ErrorKind::kLimit);
  const Error e4 = ExecError("{{printf \"%099999999d\" 1}}", Value(), l);
  EXPECT_EQ(e4.kind, ErrorKind::kLimit);
}

TEST(TemplateLimits, DeepRecursionIsBounded) {
  const char* text = "{{define \"R\"}}{{template \"R\" .}}{{end}}{{template \"R\" .}}";
  const Error e = ExecError(text);
  EXPECT_EQ(e.kind, ErrorKind::kLimit);
  EXPECT_NE(e.message.find("exceeded maximum template depth (100)"), std::string::npos)
      << e.message;
  // A template that calls itself twice per level is stopped by the steps.
  Limits l;
  l.max_steps = 100000;
  const Error e2 = ExecError(
      "{{define \"R\"}}{{template \"R\" .}}{{template \"R\" .}}{{end}}{{template \"R\" .}}",
      Value(), l);
  EXPECT_EQ(e2.kind, ErrorKind::kLimit);
  // Recursion that ends is fine: down a nested value.
  EXPECT_EQ(Render("{{define \"C\"}}{{if .}}x{{template \"C\" .n}}{{end}}{{end}}"
                   "{{template \"C\" .}}",
                   Json(R"({"n": {"n": {"n": null}}})")),
            "xxx");
}

TEST(TemplateLimits, DeepNestingIsAParseLimit) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "{{if true}}";
  for (int i = 0; i < 300; ++i) text += "{{end}}";
  EXPECT_EQ(ParseError(text).kind, ErrorKind::kLimit);
  EXPECT_EQ(ParseError("{{" + std::string(500, '(') + "1" + std::string(500, ')') + "}}").kind,
            ErrorKind::kLimit);
}

TEST(TemplateLimits, SelfReferentialMapIsBounded) {
  // Go would recurse forever printing it; here it is a limit error, and
  // the cycle is freed (LeakSanitizer checks under the fuzzer).
  const Error e = ExecError("{{$m := dict}}{{$_ := set $m \"self\" $m}}{{$m}}");
  EXPECT_EQ(e.kind, ErrorKind::kLimit);
  const Error e2 = ExecError("{{$m := dict}}{{$_ := set $m \"self\" $m}}{{toJson $m}}");
  EXPECT_EQ(e2.kind, ErrorKind::kLimit);
}

TEST(TemplateConcurrency, OneParseManyThreads) {
  auto p = Template::Parse("leaf", kLeafTemplate);
  ASSERT_TRUE(p.ok()) << p.error.message;
  const Value rsa = LeafData("*rsa.PublicKey");
  const Value ec = LeafData("*ecdsa.PublicKey");
  const std::string want_rsa = p.tmpl->Execute(rsa).output;
  const std::string want_ec = p.tmpl->Execute(ec).output;
  std::vector<std::thread> threads;
  std::vector<int> bad(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool use_rsa = (i + t) % 2 == 0;
        auto r = p.tmpl->Execute(use_rsa ? rsa : ec);
        if (r.output != (use_rsa ? want_rsa : want_ec)) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(bad[t], 0);
}

TEST(TemplateData, SetDoesNotChangeTheCallersData) {
  auto p = Template::Parse("t", "{{$_ := set . \"k\" \"changed\"}}{{.k}}");
  ASSERT_TRUE(p.ok());
  const Value d = Json(R"({"k": "orig"})");
  EXPECT_EQ(p.tmpl->Execute(d).output, "changed");
  EXPECT_EQ(d.as_map().at("k").as_string(), "orig");
  EXPECT_EQ(p.tmpl->Execute(d).output, "changed");
}

}  // namespace
}  // namespace tmpl
}  // namespace stepca
