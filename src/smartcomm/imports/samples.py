"""Sample files of each import kind, offered for download next to the upload form."""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "customers": (
        "external_id,first_name,last_name,gender,birth_date,email,phone,city,registered_at,card_number,"
        "allow_email,allow_sms,bonus_balance,expiring_amount,expiring_on\n"
        "C-1001,Anna,Smirnova,f,1988-04-12,anna.smirnova@example.com,+7 912 345-67-89,Perm,2024-05-01 10:30,"
        "7700123400011,Y,Y,1250.50,300,2027-01-31\n"
        "C-1002,Oleg,Ivanov,m,1975-11-30,oleg@example.com,8 495 123-45-67,Moscow,2024-06-15 18:05,"
        "7700123400012,Y,N,0,,\n"
        "C-1003,Maria,,f,,,+7 (903) 555-12-34,Kazan,,,N,Y,,,\n"
        # A second portion of Anna's bonuses: her row again, with only the expiring columns.
        "C-1001,,,,,,,,,,,,,200,2027-02-28\n"
    ),
    "receipts": (
        "number,store,customer_external_id,purchased_at,status,total,discount,bonus_earned,bonus_spent,sku,"
        "quantity,price,amount,line_discount\n"
        "R-5001,MSK-01,C-1001,2026-03-14 12:40,paid,,,25,,SKU-100,2,149.90,,\n"
        "R-5001,MSK-01,C-1001,2026-03-14 12:40,paid,,,25,,SKU-200,1,89.00,,10.00\n"
        "R-5002,online,C-1002,2026-03-15T09:05:00+03:00,paid,1250.00,100,,50,SKU-300,1,1350.00,1250.00,100\n"
        "R-5003,MSK-01,C-1001,2026-03-20 19:00,returned,,,,,SKU-100,1,149.90,,\n"
    ),
    "products": (
        "sku,name,price,stock,category,category_name,parent_category,url,image_url,is_active\n"
        "SKU-100,Green tea 100 g,149.90,320,tea,Tea,drinks,https://shop.example.com/p/100,"
        "https://shop.example.com/i/100.jpg,Y\n"
        "SKU-200,Oat cookies,89.00,75,sweets,Sweets,,https://shop.example.com/p/200,,Y\n"
        "SKU-300,Tea set,1350.00,4,tea,,,https://shop.example.com/p/300,,N\n"
    ),
}
