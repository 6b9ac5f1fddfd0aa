/*
 * test_fmt.c: the JSON and CSV writer (sim/fmt.h), byte for byte: escapes,
 * commas, nesting, layouts, null for what is not a number, and which CSV
 * fields are quoted.
 */
#include <math.h>
#include <string.h>

#include "fmt.h"
#include "testhelp.h"

/* What fn wrote, in buf (NUL-terminated). */
static const char *capture(void (*fn)(FILE *), char *buf, size_t len)
{
    FILE *f = tmpfile();
    if (!f) return "";
    fn(f);
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void quote_nasty(FILE *f)
{
    fmt_json_quote(f, "q\"b\\s\001\n\t,c\x7f");
}

static void doc_compact(FILE *f)
{
    fmt_json j;
    fmt_json_init(&j, f, 1u << 1, 2, 0);
    fmt_json_arr(&j, NULL);
    for (int i = 0; i < 2; i++) {
        fmt_json_obj(&j, NULL);
        fmt_json_str(&j, "name", i ? "a,b" : "x\"y");
        fmt_json_int(&j, "n", -3 + i);
        fmt_json_num(&j, "t", i ? NAN : 1.25, 2);
        fmt_json_bool(&j, "ok", i);
        fmt_json_arr(&j, "ctx");
        fmt_json_int(&j, NULL, 1);
        fmt_json_int(&j, NULL, 2);
        fmt_json_close(&j);
        fmt_json_str(&j, "none", NULL);
        fmt_json_close(&j);
    }
    fmt_json_end(&j);
}

static void doc_spaced(FILE *f)
{
    fmt_json j;
    fmt_json_init(&j, f, 1u << 1 | 1u << 2, 2, 1);
    fmt_json_obj(&j, NULL);
    fmt_json_str(&j, "spec", "builtin");
    fmt_json_arr(&j, "errors");
    fmt_json_obj(&j, NULL);
    fmt_json_numtext(&j, "a", "1.5e3");
    fmt_json_numtext(&j, "b", "inf");
    fmt_json_numtext(&j, "c", "01");
    fmt_json_numtext(&j, "d", "-0.25");
    fmt_json_close(&j);
    fmt_json_close(&j);
    fmt_json_arr(&j, "empty");
    fmt_json_end(&j);   /* closes what is open */
}

static void csv_fields(FILE *f)
{
    const char *in[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", ""};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        if (i) fputc('|', f);
        fmt_csv_field(f, in[i]);
    }
}

int main(void)
{
    char buf[4096];
    const char *s = capture(quote_nasty, buf, sizeof buf);
    CHECK(!strcmp(s, "\"q\\\"b\\\\s\\u0001\\n\\t,c\\u007f\""), "quote: %s", s);

    s = capture(doc_compact, buf, sizeof buf);
    const char *want = "[\n"
                       "  {\"name\":\"x\\\"y\",\"n\":-3,\"t\":1.25,\"ok\":false,\"ctx\":[1,2],\"none\":null},\n"
                       "  {\"name\":\"a,b\",\"n\":-2,\"t\":null,\"ok\":true,\"ctx\":[1,2],\"none\":null}\n"
                       "]\n";
    CHECK(!strcmp(s, want), "compact document:\n%s\nwant:\n%s", s, want);

    s = capture(doc_spaced, buf, sizeof buf);
    want = "{\n"
           "  \"spec\": \"builtin\",\n"
           "  \"errors\": [\n"
           "    {\"a\": 1.5e3, \"b\": \"inf\", \"c\": \"01\", \"d\": -0.25}\n"
           "  ],\n"
           "  \"empty\": []\n"
           "}\n";
    CHECK(!strcmp(s, want), "spaced document:\n%s\nwant:\n%s", s, want);

    s = capture(csv_fields, buf, sizeof buf);
    want = "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"cr\r\"|";
    CHECK(!strcmp(s, want), "csv fields: %s", s);

    TEST_DONE("test_fmt");
}
