#include "aws/xml.h"

#include <gtest/gtest.h>

namespace di::aws {
namespace {

TEST(Xml, ParsesS3Answers) {
  auto r = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <IsTruncated>true</IsTruncated>\n"
      "  <Contents><Key>a&amp;b &lt;c&gt; &#241;&#x1F3AC;</Key><Size>12</Size></Contents>\n"
      "  <Contents><Key><![CDATA[x<y]]></Key><Size/></Contents>\n"
      "  <!-- comment -->\n"
      "  <NextContinuationToken>tok</NextContinuationToken>\n"
      "</ListBucketResult>");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "ListBucketResult");
  EXPECT_EQ(r->ChildText("IsTruncated"), "true");
  auto contents = r->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"), "a&b <c> ñ🎬");
  EXPECT_EQ(contents[0]->ChildText("Size"), "12");
  EXPECT_EQ(contents[1]->ChildText("Key"), "x<y");
  EXPECT_EQ(contents[1]->ChildText("Size"), "");
  EXPECT_EQ(r->ChildText("NextContinuationToken"), "tok");
  EXPECT_EQ(r->ChildText("Missing"), "");
}

TEST(Xml, RejectsBrokenDocuments) {
  EXPECT_FALSE(ParseXml("").ok());
  EXPECT_FALSE(ParseXml("not xml").ok());
  EXPECT_FALSE(ParseXml("<a><b></b>").ok());
  EXPECT_FALSE(ParseXml("<a").ok());
}

TEST(Xml, EscapesTheFiveCharacters) {
  EXPECT_EQ(XmlEscape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&apos;");
  EXPECT_EQ(ParseXml("<k>" + XmlEscape("x&<>\"'y") + "</k>")->text, "x&<>\"'y");
}

}  // namespace
}  // namespace di::aws
