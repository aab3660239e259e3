// Package browsertest holds the tests that drive httpadapter's hosted
// pages in a real headless Chromium (see internal/testbrowser). They live
// in the examples module so that the library's go.mod does not require
// chromedp: a host that builds usermgmt never downloads it.
package browsertest
