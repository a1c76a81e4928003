/* A shared library that is not an hcal plugin: it lacks hcal_plugin_get_api. */
int hcal_test_not_a_plugin(void) { return 42; }
