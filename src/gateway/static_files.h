/*
 * static_files.h
 *	  The built dashboard (web/dist): files by path, and index.html for every
 *	  other page route, so a reload or a shared link opens the app.
 */
#ifndef GW_STATIC_FILES_H
#define GW_STATIC_FILES_H

#include "gateway/http.h"

void		gw_static_init(const char *dir);
const char *gw_static_serve(gw_req *r);

#endif
