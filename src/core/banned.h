/*
 * banned.h: functions that must not be used in hpcloop (after git's list).
 * Each is unbounded or hides errors; use the bounded, checked alternative
 * named in the comment.  Include this header last in every .c file.
 */
#ifndef HPCLOOP_BANNED_H
#define HPCLOOP_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy) /* use snprintf or buf */
#undef strcat
#define strcat(x, y) BANNED(strcat) /* use buf_add */
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy) /* use snprintf */
#undef strncat
#define strncat(x, y, n) BANNED(strncat) /* use buf_add */
#undef sprintf
#define sprintf(...) BANNED(sprintf) /* use snprintf or buf_addf */
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf) /* use vsnprintf */
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok) /* use strtok_r or a loop */
#undef system
#define system(x) BANNED(system) /* never hand a string to a shell */
#undef popen
#define popen(x, y) BANNED(popen) /* use the transport's argv exec */
#undef atoi
#define atoi(x) BANNED(atoi) /* use strtol with checks */

#endif
